"""An S3-compatible bucket as a deploy target, through boto3 (the ``deploy`` extra).

Imported only when a target is an ``s3://`` URL. Credentials come the standard
AWS ways (environment, shared config and credentials files, AWS_PROFILE, an
instance role), never from podcast.toml. Every file is one PUT, which S3
applies whole or not at all, with Content-MD5 so the service refuses bytes
damaged on the way, and its MD5 in the object's metadata: the ETag S3 lists
is that MD5 for a plain PUT, but not under SSE-KMS or after a multipart
upload by another tool, and then the metadata still tells.

Other services speak the same API at their own endpoint (``--endpoint-url``):
R2, B2, Spaces and MinIO all take path-style requests, which need no DNS
name per bucket, so those are used whenever an endpoint is given.
"""
from __future__ import annotations

import base64
from pathlib import Path

from audiobook.errors import ConfigError, DeployError
from audiobook.show.targets import Headers, Stored, Target

CONNECT_TIMEOUT = 10  # seconds: a wrong endpoint is refused quickly
READ_TIMEOUT = 120  # seconds without a byte from the service
ATTEMPTS = 3  # boto3's standard retry mode: a failed request is tried this many times in all
CONNECTIONS = 8  # the deploy's parallel uploads share this client's pool
MD5_META = "md5"  # x-amz-meta-md5: the file's MD5, whatever the ETag is


class S3Target(Target):
    sets_headers = True

    def __init__(self, url: str, bucket: str, prefix: str, *, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError
        except ImportError:
            raise ConfigError("deploying to s3:// needs boto3: pip install 'audiobook[deploy]'") from None
        self.url, self.bucket, self.prefix = url, bucket, prefix
        try:
            session = boto3.session.Session(region_name=region)
            self._credentials = session.get_credentials()
            self._client = session.client("s3", endpoint_url=endpoint_url, config=Config(
                connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, max_pool_connections=CONNECTIONS,
                retries={"max_attempts": ATTEMPTS, "mode": "standard"},
                # Checksums only where the API demands them: several S3-compatible services
                # refuse the CRC32 trailers boto3 sends by default since 1.36.
                request_checksum_calculation="when_required", response_checksum_validation="when_required",
                s3={"addressing_style": "path"} if endpoint_url else None))
        except (BotoCoreError, ValueError) as exc:  # ProfileNotFound, a malformed endpoint or config file
            raise DeployError(f"cannot open {url}: {exc}") from exc
        self.where = self._client.meta.endpoint_url  # also when AWS_ENDPOINT_URL or a profile names it

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _call(self, doing: str, method, *args, **kwargs):
        """One request; any failure is one DeployError that says what was being done, where."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(*args, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise DeployError(f"{doing} at {self.where}: {error.get('Code')} {error.get('Message') or ''}"
                              .rstrip()) from exc
        except BotoCoreError as exc:
            raise DeployError(f"{doing}: {exc}") from exc

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        if self._credentials is None:
            raise DeployError(f"no credentials for {self.url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                              f"or AWS_PROFILE with ~/.aws/credentials (never in podcast.toml)")
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except EndpointConnectionError as exc:
            raise DeployError(f"cannot reach {self.where} for {self.url} ({exc}); check --endpoint-url "
                              f"or [deploy] endpoint_url") from exc
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in ("404", "NoSuchBucket"):
                raise DeployError(f"bucket {self.bucket!r} does not exist at {self.where}; "
                                  f"create it first, or check the target and --endpoint-url") from exc
            if code in ("403", "AccessDenied"):
                raise DeployError(f"{self.where} refused access to bucket {self.bucket!r}: check the credentials "
                                  f"and that they may list and write it") from exc
            if code == "301":
                raise DeployError(f"bucket {self.bucket!r} is in another region: set AWS_REGION or [deploy] "
                                  f"region") from exc
            raise DeployError(f"cannot open bucket {self.bucket!r} at {self.where}: {exc}") from exc
        except BotoCoreError as exc:  # a refused signature, a TLS failure, a timeout
            raise DeployError(f"cannot open bucket {self.bucket!r} at {self.where}: {exc}") from exc

    def listing(self) -> dict[str, Stored]:
        root = f"{self.prefix}/" if self.prefix else ""
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=root)
        found = {}
        for page in self._call(f"cannot list {self.url}", list, pages):  # the pages are fetched here
            for item in page.get("Contents", []):
                path = item["Key"][len(root):]
                if path and not path.endswith("/"):  # "folder/" markers some consoles make
                    found[path] = Stored(item["Size"], item.get("ETag", "").strip('"') or None)
        return found

    def stored_md5(self, path: str) -> str | None:
        head = self._call(f"cannot read {self.url}/{path}", self._client.head_object, Bucket=self.bucket,
                          Key=self._key(path))
        return head.get("Metadata", {}).get(MD5_META)

    def put(self, path: str, source: Path, headers: Headers, md5: str) -> None:
        with open(source, "rb") as body:
            self._call(f"cannot upload {path} to {self.url}", self._client.put_object, Bucket=self.bucket,
                       Key=self._key(path), Body=body, ContentType=headers.content_type,
                       CacheControl=headers.cache_control, Metadata={MD5_META: md5},
                       ContentMD5=base64.b64encode(bytes.fromhex(md5)).decode("ascii"))

    def delete(self, path: str) -> None:
        self._call(f"cannot remove {path} from {self.url}", self._client.delete_object, Bucket=self.bucket,
                   Key=self._key(path))
