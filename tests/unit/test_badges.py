"""Open Badges pieces without HTTP (API §15.2): the status list's bit order, did:web names, and
how the issuer is configured."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from domain.credentials.badges import STATUS_LIST_BITS, did_web, encoded_list, set_bits
from lms.bootstrap import build_issuer
from lms.settings import SettingsError, load_settings

KEY = "k" * 40


def test_the_status_list_is_gzip_base64url_multibase_with_index_0_the_highest_bit() -> None:
    encoded = encoded_list([0, 9, STATUS_LIST_BITS - 1])
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == STATUS_LIST_BITS // 8 == 16384
    assert (raw[0], raw[1], raw[-1]) == (0b1000_0000, 0b0100_0000, 0b0000_0001)
    assert set_bits(encoded) == [0, 9, STATUS_LIST_BITS - 1]
    assert encoded_list([]) == encoded_list([])  # no timestamp in the GZIP header: the same bytes


def test_did_web_percent_encodes_the_port() -> None:
    assert did_web("lms.example.edu") == "did:web:lms.example.edu"
    assert did_web("localhost:8000") == "did:web:localhost%3A8000"


@pytest.mark.parametrize("value", ["https://lms.example.edu", "lms.example.edu/path", "lms:port", "a b", "u@lms"])
def test_the_public_host_is_a_bare_host(value: str) -> None:
    with pytest.raises(SettingsError, match="LMS_PUBLIC_HOST"):
        load_settings({"LMS_PUBLIC_HOST": value})
    assert load_settings({"LMS_PUBLIC_HOST": "LMS.example.edu:8443"}).public_host == "lms.example.edu:8443"


def test_the_issuer_key_is_kept_in_the_data_dir_outside_production(tmp_path: Path) -> None:
    settings = load_settings({"LMS_DATA_DIR": str(tmp_path)})
    first, second = build_issuer(settings), build_issuer(settings)
    assert first is not None and second is not None
    assert first.signer.thumbprint == second.signer.thumbprint
    assert (tmp_path / "credential-signing-key.pem").stat().st_mode & 0o077 == 0  # its owner's only
    assert first.did == "did:web:localhost%3A8000"


def test_production_issues_credentials_only_with_a_key_and_a_host(tmp_path: Path) -> None:
    production = {
        "LMS_ENVIRONMENT": "production",
        "LMS_SECRET_KEY": KEY,
        "LMS_TRUSTED_HOSTS": "lms.example.edu",
        "LMS_EMAIL_BACKEND": "file",
        "LMS_DATA_DIR": str(tmp_path),
    }
    assert build_issuer(load_settings(production)) is None
    assert not (tmp_path / "credential-signing-key.pem").exists()  # never made in production
    pem = ECKey.generate_key("P-256").as_pem(private=True).decode()
    assert build_issuer(load_settings(production | {"LMS_CREDENTIAL_SIGNING_KEY": pem})) is None  # no host
    issuer = build_issuer(
        load_settings(production | {"LMS_CREDENTIAL_SIGNING_KEY": pem, "LMS_PUBLIC_HOST": "LMS.example.edu"})
    )
    assert issuer is not None and issuer.did == "did:web:lms.example.edu" and issuer.signer.algorithm == "ES256"


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        ("not a key", "not an unencrypted PEM private key"),
        (ECKey.generate_key("P-384").as_pem(private=True).decode(), "Ed25519 or EC P-256"),
        (ECKey.generate_key("P-256").as_pem(private=False).decode(), "not an unencrypted PEM private key"),
    ],
)
def test_a_bad_signing_key_stops_start_up(tmp_path: Path, pem: str, message: str) -> None:
    settings = load_settings({"LMS_DATA_DIR": str(tmp_path), "LMS_CREDENTIAL_SIGNING_KEY": pem})
    with pytest.raises(SettingsError, match=f"LMS_CREDENTIAL_SIGNING_KEY: .*{message}"):
        build_issuer(settings)


def test_previous_keys_are_pem_blocks_one_after_another(tmp_path: Path) -> None:
    first, second = (ECKey.generate_key("P-256").as_pem(private=True).decode() for _ in range(2))
    settings = load_settings({"LMS_DATA_DIR": str(tmp_path), "LMS_CREDENTIAL_SIGNING_KEY_PREVIOUS": first + second})
    issuer = build_issuer(settings)
    assert issuer is not None and len(issuer.previous) == 2
    with pytest.raises(SettingsError, match="LMS_CREDENTIAL_SIGNING_KEY_PREVIOUS must hold PEM blocks"):
        load_settings({"LMS_CREDENTIAL_SIGNING_KEY_PREVIOUS": "not a pem"})
