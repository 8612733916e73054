"""Rate limits in Redis hold across application instances; without Redis the site keeps serving."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL
from tests.registration.conftest import REGISTER_URL, form_data

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_reachable(), reason=f"Redis is not reachable at {REDIS_URL} "
                                 "(set SEMINAR_TEST_REDIS_URL, or start it: .ci/run does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _closed_port_url() -> str:
    return f"redis://127.0.0.1:{_free_port()}/15"


class Instance:
    """One gunicorn process (the project's gunicorn.conf.py, one worker) serving the limited test app."""

    def __init__(self, tmp_path: Path, storage_uri: str, key: str):
        self.port = _free_port()
        self.log = tmp_path / f"gunicorn-{self.port}.log"
        instance = tmp_path / f"instance-{self.port}"
        instance.mkdir()
        env = {**os.environ, "LIMITED_STORAGE_URI": storage_uri, "LIMITED_KEY": key,
               "LIMITED_INSTANCE": str(instance), "SEMINAR_BIND": f"127.0.0.1:{self.port}",
               "SEMINAR_WORKERS": "1", "SEMINAR_THREADS": "1"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF),
                 "tests.production.limited_app:create_limited_app()"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()}")
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text()}")

    def get_limited(self) -> int:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{self.port}/limited-for-test", timeout=10).status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=30)
        return self.log.read_text()


@pytest.fixture
def instances(tmp_path):
    started: list[Instance] = []

    def start(storage_uri: str, key: str) -> Instance:
        started.append(Instance(tmp_path, storage_uri, key))
        return started[-1]

    yield start
    for instance in started:
        instance.stop()


@needs_redis
def test_redis_limit_counts_across_two_app_instances(instances):
    key = f"test-{uuid.uuid4().hex}"
    first, second = instances(REDIS_URL, key), instances(REDIS_URL, key)
    # "3 per minute", shared: the third request of the three allowed goes to the other instance
    statuses = [first.get_limited(), second.get_limited(), first.get_limited(), second.get_limited(),
                first.get_limited()]
    assert statuses == [200, 200, 200, 429, 429]


def test_memory_storage_limits_each_instance_separately(instances):
    # The control: what Redis fixes. Each process counts on its own.
    key = f"test-{uuid.uuid4().hex}"
    first, second = instances("memory://", key), instances("memory://", key)
    statuses = [first.get_limited() for _ in range(3)] + [second.get_limited() for _ in range(3)]
    assert statuses == [200] * 6
    assert first.get_limited() == 429


def test_redis_unavailable_requests_still_served_and_logged(instances):
    instance = instances(_closed_port_url(), f"test-{uuid.uuid4().hex}")
    statuses = [instance.get_limited() for _ in range(5)]  # more than the limit: nothing counts
    log = instance.stop()
    assert statuses == [200] * 5
    assert "Failed to rate limit. Swallowing error" in log
    assert "ConnectionError" in log or "Connection refused" in log


@needs_redis
@pytest.mark.parametrize("app_config", [{
    "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL,
    "RATELIMIT_REGISTRATION_PER_IP": "3 per hour", "RATELIMIT_REGISTRATION_PER_EMAIL": "2 per hour",
}])
def test_redis_registration_limits_count_registrations_per_ip_and_per_email(client, seeded):
    import redis

    # The counters outlive the test (an hour, in Redis): an IP address and e-mail addresses of this run only.
    ip, run = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}", uuid.uuid4().hex

    def post(email: str, **fields) -> int:
        data = form_data(seeded, email=email, **fields)
        return client.post(REGISTER_URL, data=data, environ_base={"REMOTE_ADDR": ip}).status_code

    assert [post(f"typo-{run}", first_name="") for _ in range(5)] == [200] * 5  # not counted
    assert [post(f"camille-{run}@example.org") for _ in range(3)] == [303, 303, 429]  # per e-mail
    assert post(f"dominique-{run}@example.org") == 303
    assert post(f"sacha-{run}@example.org") == 429  # per IP: the third registration from it was the last
    keys = [key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter(match="LIMITS*", count=1000)]
    assert any(ip in key for key in keys)
    assert not any(run in key for key in keys)  # addresses are not stored in clear
