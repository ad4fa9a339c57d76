"""An S3 server on 127.0.0.1 (moto's), a bucket in it, and the AWS settings that reach it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

BUCKET = "reeldocs-test"

# Credentials moto accepts; set for this process (the web app in a thread) and passed to
# worker processes.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_AWS_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    client: Any  # a boto3 client that talks to the server directly

    def prefix(self) -> str:
        """A fresh prefix in the bucket, so tests never see each other's objects."""
        return f"run-{os.urandom(4).hex()}"

    def keys(self, prefix: str) -> list[str]:
        answer = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
        return [item["Key"] for item in answer.get("Contents", [])]


@contextmanager
def aws_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_ENV.items():
            patch.setenv(name, value)
        for name in _AWS_UNSET:
            patch.delenv(name, raising=False)
        yield


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server with the bucket made (Reeldocs expects it to exist)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        with aws_environment():
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            client = boto3.client("s3", endpoint_url=endpoint)
            client.create_bucket(Bucket=BUCKET)
            yield S3Server(endpoint, client)
    finally:
        server.stop()
