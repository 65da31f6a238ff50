"""Objects in an S3-compatible bucket (AWS S3, MinIO, …) through aioboto3.

Credentials come the usual botocore way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile,
an instance role). One client per storage, opened on first use and closed at shutdown, as aioboto3
intends for long-running processes.
"""

from collections.abc import AsyncGenerator, AsyncIterable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

import aioboto3
import anyio
from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from spek.storage.base import CHUNK_SIZE, StorageError, check_range

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part, but for the last one
PART_SIZE = 8 * 1024 * 1024
MISSING = {"404", "NoSuchKey", "NotFound"}
REFUSED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}


class S3Storage:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
        part_size: int = PART_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 parts must be at least {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = part_size
        self._session = aioboto3.Session()
        self._client: Any = None
        self._exit_stack = AsyncExitStack()
        self._opening = anyio.Lock()

    @property
    def _where(self) -> str:
        return f"bucket {self.bucket!r} at {self.endpoint_url or f'AWS S3 ({self.region})'}"

    async def _s3(self) -> Any:
        async with self._opening:
            if self._client is None:
                # MinIO and other self-hosted stores want bucket names in the path, not the host name.
                config = AioConfig(s3={"addressing_style": "path"}) if self.endpoint_url else None
                async with AsyncExitStack() as opening:
                    client = await opening.enter_async_context(
                        self._session.client(
                            "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config
                        )
                    )
                    with self._errors():
                        await client.head_bucket(Bucket=self.bucket)  # a wrong bucket or key fails here, by name
                    self._exit_stack = opening.pop_all()
                    self._client = client
        return self._client

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        """botocore's errors as ones that say what to fix."""
        try:
            yield
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code"))
            if code in MISSING and key is not None:
                raise FileNotFoundError(f"{key!r} is not in S3 {self._where}") from None
            if code in MISSING or code == "NoSuchBucket":
                raise StorageError(
                    f"S3 {self._where} does not exist: create it, or set SPEK_S3_BUCKET / SPEK_S3_ENDPOINT_URL"
                ) from e
            if code in REFUSED:
                raise StorageError(
                    f"S3 {self._where} refused the credentials ({code}): "
                    "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ) from e
            raise
        except NoCredentialsError as e:
            raise StorageError(
                f"no credentials for S3 {self._where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from e
        except EndpointConnectionError as e:
            raise StorageError(f"cannot reach S3 {self._where}: is SPEK_S3_ENDPOINT_URL right and the store up?") from e

    def _name(self, key: str) -> str:
        return self.prefix + key

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        s3 = await self._s3()
        name = self._name(key)
        buffer = bytearray()
        written = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        with self._errors():
            try:
                async for chunk in chunks:
                    buffer += chunk
                    written += len(chunk)
                    if len(buffer) >= self.part_size:
                        if upload_id is None:
                            upload_id = (await s3.create_multipart_upload(Bucket=self.bucket, Key=name))["UploadId"]
                        parts.append(await self._upload_part(s3, name, upload_id, len(parts) + 1, bytes(buffer)))
                        buffer.clear()
                if upload_id is None:  # it all fits in one part: a plain PUT
                    await s3.put_object(Bucket=self.bucket, Key=name, Body=bytes(buffer))
                    return written
                if buffer:
                    parts.append(await self._upload_part(s3, name, upload_id, len(parts) + 1, bytes(buffer)))
                await s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
                return written
            except BaseException:
                if upload_id is not None:
                    # Uploaded parts are kept (and billed) until the upload is aborted.
                    with anyio.CancelScope(shield=True):
                        await s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
                raise

    async def _upload_part(self, s3: Any, name: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        response = await s3.upload_part(Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=body)
        return {"ETag": response["ETag"], "PartNumber": number}

    async def size(self, key: str) -> int:
        s3 = await self._s3()
        with self._errors(key):
            return (await s3.head_object(Bucket=self.bucket, Key=self._name(key)))["ContentLength"]

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        check_range(start, end)
        if end is not None and end <= start:
            await self.size(key)  # S3 would ignore an empty Range and send everything; still, a missing key is an error
            return
        s3 = await self._s3()
        ranged: dict[str, str] = {}
        if start > 0 or end is not None:
            ranged["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        with self._errors(key):
            try:
                response = await s3.get_object(Bucket=self.bucket, Key=self._name(key), **ranged)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") == "InvalidRange":
                    return  # the range starts at or past the end
                raise
            body = response["Body"]
            async with body:  # gives the connection back however the reading ends
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        with self._errors():
            await s3.delete_object(Bucket=self.bucket, Key=self._name(key))

    async def close(self) -> None:
        await self._exit_stack.aclose()
        self._client = None
