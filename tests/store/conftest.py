from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import pytest

from tests.ingest.conftest import empty_queue, ingest_settings, media, origin  # noqa: F401
from tests.store.s3_server import S3Server, StoreProxy

# credentials moto accepts (it enforces none); the tests check they never leak into logs or answers
ACCESS_KEY_ID = "AKIASTORETESTKEYID01"
SECRET_ACCESS_KEY = "store-test-secret/0123456789abcdefSECRET"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.create_bucket()


@pytest.fixture
async def store_proxy(s3_server: S3Server) -> AsyncIterator[StoreProxy]:
    proxy = await StoreProxy(s3_server.url).start()
    yield proxy
    await proxy.stop()


@pytest.fixture
def s3_settings(bucket: str, store_proxy: StoreProxy) -> dict[str, Any]:
    """Settings overrides: the s3 store, reached through the proxy, objects under ``media/``."""
    return {
        "media_store": f"s3://{bucket}/media",
        "s3_endpoint_url": store_proxy.url,
        "s3_access_key_id": ACCESS_KEY_ID,
        "s3_secret_access_key": SECRET_ACCESS_KEY,
        "s3_retry_seconds": 2.0,
    }


@pytest.fixture
def s3(s3_server: S3Server) -> Any:
    """An independent S3 client (boto3) looking at the bucket directly."""
    return boto3.client(
        "s3", endpoint_url=s3_server.url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
    )  # fmt: skip
