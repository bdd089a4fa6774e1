"""Django's Redis cache backend, keeping its redis client instead of building one per call.

Django's RedisCacheClient makes a new `redis.Redis` object for every cache operation, and each
one copies redis-py's table of about 170 response callbacks: profiled on `make serve`, that was
a tenth of a logged-in request's time once sessions and pages came from Redis. A client only
wraps the connection pool and is safe to share, so one per pool is kept.
"""

from django.core.cache.backends import redis

# Adds to a counter, giving a new counter its time to live: atomic, as every script is, and
# one command (a pipeline of SET NX and INCRBY cost half as much CPU again in redis-py).
COUNT_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._count_scripts = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def count(self, key, timeout, amount):
        client = self.get_client(key, write=True)
        script = self._count_scripts.get(id(client))
        if script is None:
            script = self._count_scripts[id(client)] = client.register_script(COUNT_SCRIPT)
        return script(keys=[key], args=[timeout, amount])


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count(self, key, timeout, amount=1):
        return self._cache.count(self.make_and_validate_key(key), timeout, amount)


def count(key, timeout, amount=1, cache=None):
    """Adds `amount` to the counter at `key` and returns the new count. A new counter lives
    `timeout` seconds. Atomic, so concurrent callers each get a count of their own; on Redis, one
    command."""
    from django.core.cache import caches

    cache = cache or caches["default"]  # the backend itself; django.core.cache.cache is a proxy
    if isinstance(cache, RedisCache):
        return cache.count(key, timeout, amount)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key, amount)
    except ValueError:  # it expired between the two calls: this is the new counter's first
        cache.add(key, amount, timeout)
        return amount
