"""Django's Redis cache backend, keeping its redis client instead of building one per call.

Django's RedisCacheClient makes a new `redis.Redis` object for every cache operation, and each
one copies redis-py's table of about 170 response callbacks: profiled on `make serve`, that was
a tenth of a logged-in request's time once sessions and pages came from Redis. A client only
wraps the connection pool and is safe to share, so one per pool is kept.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
