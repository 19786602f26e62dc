"""A local S3-compatible server for the object-store tests: moto's server mode, in a thread.

It speaks S3 over HTTP on a free port of 127.0.0.1, so riskreg (django-storages, boto3)
talks to it exactly as to any S3-compatible store, from this process and from worker
processes alike. Credentials are moto's conventional "testing".
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def settings(self, bucket: str, prefix: str = "riskreg") -> dict[str, str]:
        """riskreg's variables (and boto3's credentials) for a store in this bucket."""
        return {
            "RISKREG_STORAGE_URL": f"s3://{bucket}/{prefix}",
            "RISKREG_S3_ENDPOINT_URL": self.endpoint,
            "RISKREG_S3_REGION": REGION,
            **CREDENTIALS,
        }


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """A started server on a free port; stopped afterwards."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
