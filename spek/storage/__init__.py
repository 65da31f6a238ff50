"""Where uploaded files live: a local directory by default, or an S3 bucket; optionally encrypted."""

from spek.settings import Settings
from spek.storage.base import CHUNK_SIZE, IntegrityError, Storage, StorageError, file_chunks
from spek.storage.encryption import EncryptedStorage, parse_key
from spek.storage.local import LocalStorage
from spek.storage.reader import SyncReader

__all__ = [
    "CHUNK_SIZE",
    "EncryptedStorage",
    "IntegrityError",
    "LocalStorage",
    "Storage",
    "StorageError",
    "SyncReader",
    "create_storage",
    "file_chunks",
]


def create_storage(settings: Settings) -> Storage:
    """The configured backend, behind AES-256-GCM when SPEK_ENCRYPTION_KEY is set.

    Checks the settings at once, so a bad key or a missing bucket name stops start-up.
    """
    secret = settings.encryption_key.get_secret_value() if settings.encryption_key is not None else ""
    key = parse_key(secret) if secret else None  # empty counts as unset, as in docker-compose.yml
    backend: Storage
    if settings.storage == "s3":
        if not settings.s3_bucket:
            raise StorageError("SPEK_STORAGE=s3 needs SPEK_S3_BUCKET, the bucket to keep files in.")
        from spek.storage.s3 import S3Storage  # botocore is slow to import; local set-ups never need it

        backend = S3Storage(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            prefix=settings.s3_prefix,
        )
    else:
        backend = LocalStorage(settings.data_dir / "files")
    return EncryptedStorage(backend, key) if key else backend
