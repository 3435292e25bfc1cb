"""The verifiable-credential issuer key (API §15.2) with joserfc: an Ed25519 (`EdDSA`) or P-256
(`ES256`) private key from a PEM, signing compact JWS."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey
from joserfc.util import to_bytes

KEY_FILE = "credential-signing-key.pem"


class SigningKeyError(ValueError):
    """The configured key is not a usable Ed25519 or P-256 private key."""


class JoseCredentialSigner:
    def __init__(self, pem: str | bytes) -> None:
        try:
            private = serialization.load_pem_private_key(to_bytes(pem), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SigningKeyError(f"not an unencrypted PEM private key ({exc})") from None
        key: OKPKey | ECKey
        if isinstance(private, ed25519.Ed25519PrivateKey):
            key = OKPKey.import_key(private)
            self._algorithm = "EdDSA"  # what Open Badges verifiers know (RFC 9864 later named it Ed25519)
        elif isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(private.curve, ec.SECP256R1):
            key = ECKey.import_key(private)
            self._algorithm = "ES256"
        else:
            raise SigningKeyError("the key must be Ed25519 or EC P-256")
        self._key = key

    @classmethod
    def kept_in(cls, data_dir: Path) -> JoseCredentialSigner:
        """The key in `data_dir`, made there (readable by its owner only) on first use."""
        path = data_dir / KEY_FILE
        if not path.exists():
            # Written aside, then linked in place: processes starting together keep one key.
            draft = data_dir / f".{KEY_FILE}.{os.getpid()}"
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(OKPKey.generate_key("Ed25519").as_pem(private=True))
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another process made it first
            finally:
                draft.unlink()
        return cls(path.read_bytes())

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def thumbprint(self) -> str:
        return self._key.thumbprint()

    def public_jwk(self) -> dict[str, str]:
        return {k: str(v) for k, v in self._key.as_dict(private=False).items()}

    def sign(self, payload: Mapping[str, Any], key_id: str) -> str:
        header = {"alg": self._algorithm, "kid": key_id, "typ": "JWT"}
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="EdDSA is deprecated")
            return jws.serialize_compact(header, body, self._key, algorithms=[self._algorithm])
