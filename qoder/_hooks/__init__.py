"""Hooks on the client side (the public names are in :mod:`qoder.hooks`): ``types`` (the
official SDK's shapes), ``matching`` and ``combine`` (pure), ``run`` (calling the callbacks)."""
