"""The S3 adapter of the scan storage against a stand-in S3 server on 127.0.0.1: objects put,
read and deleted under the bucket and prefix, requests signed (SigV4) with the configured
key, a missing object is NotFound, and the service picks S3 when a bucket is configured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from clientops_shared.errors import NotFound
from clientops_shared.testing import eventually_async, free_port
from contracts.adapters.storage import S3Storage
from contracts.bootstrap import storage_for
from contracts.config import ContractsSettings

pytestmark = pytest.mark.integration

NO_SUCH_KEY = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>'
               '<Message>The specified key does not exist.</Message></Error>')


@dataclass
class StandInS3:
    port: int = field(default_factory=free_port)
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    signed_by: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{bucket}/{key:path}", methods=["PUT", "GET", "DELETE"])
        async def object_(bucket: str, key: str, request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            if not auth.startswith("AWS4-HMAC-SHA256 Credential="):
                return Response(status_code=403)
            self.signed_by.append(auth.split("Credential=", 1)[1].split("/", 1)[0])
            if request.method == "PUT":
                self.objects[(bucket, key)] = await request.body()
                return Response(status_code=200, headers={"ETag": '"x"'})
            if request.method == "DELETE":
                self.objects.pop((bucket, key), None)
                return Response(status_code=204)
            if (bucket, key) not in self.objects:
                return Response(NO_SUCH_KEY, status_code=404, media_type="application/xml")
            return Response(self.objects[(bucket, key)], media_type="application/pdf")

        return app


@pytest.fixture
async def s3() -> AsyncIterator[StandInS3]:
    stand_in = StandInS3()
    server = uvicorn.Server(uvicorn.Config(stand_in.app(), host="127.0.0.1",
                                           port=stand_in.port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)
    await eventually_async(started, timeout=10, interval=0.05)
    try:
        yield stand_in
    finally:
        server.should_exit = True
        await task


async def test_scans_are_put_read_and_deleted_in_the_bucket(s3: StandInS3) -> None:
    storage = S3Storage("clientops-scans", endpoint_url=s3.url, access_key="minio-user",
                        secret_key="minio-secret-123", prefix="scans")
    scan = b"%PDF-1.4\n% scan " + bytes(range(256))
    await storage.put("client-1/doc-1.pdf", scan)
    assert s3.objects == {("clientops-scans", "scans/client-1/doc-1.pdf"): scan}
    assert await storage.get("client-1/doc-1.pdf") == scan
    with pytest.raises(NotFound):
        await storage.get("client-1/missing.pdf")
    await storage.delete("client-1/doc-1.pdf")
    assert s3.objects == {}
    assert set(s3.signed_by) == {"minio-user"}
    with pytest.raises(ValueError, match="bad storage key"):
        await storage.put("../etc/passwd", b"x")


def test_the_service_stores_scans_in_s3_when_a_bucket_is_configured(s3: StandInS3) -> None:
    on_s3 = storage_for(ContractsSettings(s3_bucket="clientops-scans", s3_endpoint_url=s3.url,
                                          s3_access_key="k", s3_secret_key="s"))
    assert isinstance(on_s3, S3Storage) and on_s3.bucket == "clientops-scans"
    assert not isinstance(storage_for(ContractsSettings()), S3Storage)
