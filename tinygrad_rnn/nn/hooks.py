"""Module forward hooks, as torch's: a pre-hook sees (module, args) before forward and may replace the args; a hook
sees (module, args, output) after it and may replace the output. With `with_kwargs=True` they see the keyword
arguments too. Each registration returns a handle whose `.remove()` unregisters it."""
import itertools

_ids = itertools.count()


class ModuleHookHandle:
    """What register_forward_hook and register_forward_pre_hook return."""

    __slots__ = ("_registry", "_id")

    def __init__(self, registry, hook_id):
        self._registry, self._id = registry, hook_id

    def remove(self):
        self._registry.pop(self._id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def add(registry, hook, prepend, with_kwargs):
    """Registers hook in `registry` (a dict, first to run first) and returns its handle."""
    if not callable(hook):
        raise TypeError(f"hook must be callable, but got {type(hook).__name__}")
    hook_id = next(_ids)
    entry = (hook, with_kwargs)
    if prepend:
        items = list(registry.items())
        registry.clear()
        registry[hook_id] = entry
        registry.update(items)
    else:
        registry[hook_id] = entry
    return ModuleHookHandle(registry, hook_id)


def call(module, forward, args, kwargs, pre_hooks, hooks):
    """forward(*args, **kwargs) with the hooks around it."""
    for hook, with_kwargs in list(pre_hooks.values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), but "
                                       f"got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    output = forward(*args, **kwargs)
    for hook, with_kwargs in list(hooks.values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    return output
