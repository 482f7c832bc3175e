"""Errbot's plugin persistence (``self['key']``), over matterbot's store.

A plugin is a mutable mapping, as in Errbot: ``self['k'] = v``,
``self['k']`` (KeyError when missing), ``del self['k']``, ``'k' in self``,
``len(self)``, iteration, and ``with self.mutable('k') as v:`` to change
a value in place. Each access is one round trip to matterbot's store, the
plugin's own namespace there, so the value is the one the bot has, also
after a restart. As with Errbot's default (shelf) storage, a value read is
a copy: ``self['list'].append(x)`` changes nothing; use ``mutable``.

Values are kept as JSON when they survive JSON unchanged (str, int,
float, bool, None, and lists and dicts of those with string keys), which
a Go port of the plugin can read; anything else (tuples, sets, dates,
objects) is pickled, as Errbot's shelf does, under the key with a marker.
"""

import base64
import json
import pickle
from contextlib import contextmanager


class StoreException(Exception):
    """A storage operation failed."""


class StoreAlreadyOpenError(StoreException):
    """open_storage on an open store."""


class StoreNotOpenError(StoreException):
    """The plugin's store is not open: the plugin is not activated."""


# PICKLED marks a value pickled because JSON would not give it back unchanged.
PICKLED = "__errbot_pickle__"


def encode(value):
    """Return the JSON-able form of value for matterbot's store."""
    try:
        if json.loads(json.dumps(value, allow_nan=False)) == value and not _has_tuple(value):
            if isinstance(value, dict) and PICKLED in value:
                raise ValueError("reserved key")
            return value
    except (TypeError, ValueError):
        pass
    return {PICKLED: base64.b64encode(pickle.dumps(value, protocol=4)).decode("ascii")}


def _has_tuple(v):
    if isinstance(v, tuple):
        return True
    if isinstance(v, list):
        return any(_has_tuple(x) for x in v)
    if isinstance(v, dict):
        return any(_has_tuple(x) for x in v.values())
    return False


def decode(value):
    """Return the Python value encode stored."""
    if isinstance(value, dict) and len(value) == 1 and PICKLED in value:
        return pickle.loads(base64.b64decode(value[PICKLED]))
    return value


class StoreMixin:
    """The mapping side of a plugin, on a store with get/set/remove/keys."""

    def __init__(self):
        self._store = None
        self.namespace = None

    def open_storage(self, storage_plugin, namespace):
        if getattr(self, "_store", None) is not None:
            raise StoreAlreadyOpenError("storage is already open")
        self._store = storage_plugin.open(namespace)
        self.namespace = namespace

    def close_storage(self):
        if getattr(self, "_store", None) is None:
            raise StoreNotOpenError("storage is not open")
        self._store.close()
        self._store = None

    def _open_store(self):
        if getattr(self, "_store", None) is None:
            raise StoreNotOpenError(
                "storage of %s is not open: use self[...] once the plugin is activated "
                "(after super().activate())" % getattr(self, "namespace", None))
        return self._store

    def __getitem__(self, key):
        return self._open_store().get(key)

    def __setitem__(self, key, value):
        self._open_store().set(key, value)

    def __delitem__(self, key):
        self._open_store().remove(key)

    def __contains__(self, key):
        try:
            self._open_store().get(key)
        except KeyError:
            return False
        return True

    def keys(self):
        return self._open_store().keys()

    def __len__(self):
        return self._open_store().len()

    def __iter__(self):
        return iter(self._open_store().keys())

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def values(self):
        return [self[k] for k in self.keys()]

    def pop(self, key, *default):
        try:
            v = self[key]
        except KeyError:
            if default:
                return default[0]
            raise
        del self[key]
        return v

    def setdefault(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            self[key] = default
            return default

    def update(self, other=(), **kw):
        for k, v in dict(other, **kw).items():
            self[k] = v

    def clear(self):
        for k in list(self.keys()):
            del self[k]

    @contextmanager
    def mutable(self, key, default=None):
        try:
            obj = self[key]
        except KeyError:
            obj = default
        yield obj
        self[key] = obj

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close_storage()


class Store:
    """One plugin's namespace in matterbot's store, through the protocol.

    host provides store_get(key) -> (found, value), store_set(key, value),
    store_delete(key) and store_keys() -> list.
    """

    def __init__(self, host):
        self._host = host

    def get(self, key):
        found, value = self._host.store_get(_key(key))
        if not found:
            raise KeyError(key)
        return decode(value)

    def set(self, key, value):
        self._host.store_set(_key(key), encode(value))

    def remove(self, key):
        k = _key(key)
        found, _ = self._host.store_get(k)
        if not found:
            raise KeyError(key)
        self._host.store_delete(k)

    def keys(self):
        return list(self._host.store_keys())

    def len(self):
        return len(self.keys())

    def close(self):
        pass


class StorePlugin:
    """What BotPlugin.open_storage opens: the host's store."""

    def __init__(self, host):
        self._host = host

    def open(self, namespace):
        return Store(self._host)


def _key(key):
    if not isinstance(key, str):
        raise TypeError("store keys are strings, not %s (%r)" % (type(key).__name__, key))
    return key
