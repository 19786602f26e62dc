"""An organisation's report-signing keys: creation, PKCS#12 import, the key directory.

No Django models and no pyHanko here: keys are ``cryptography`` objects, and
``reports/signing.py`` turns them into a pyHanko signer. Only ``settings_key_dir`` and
``settings_passphrase`` read Django settings.

Key directory layout (one directory per organisation, outside the repository; the
directory and every subdirectory 0700, every file 0600)::

    <RISKREG_KEYS_DIR>/<organisation>/
        ca.pem                      the organisation CA certificate: what auditors verify with
        ca.key.pem                  its private key (PKCS#8, encrypted when a passphrase is set);
                                    absent when the organisation imported its own PKCS#12
        chain.pem                   intermediate certificates between ca.pem and the signing
                                    certificates (PKCS#12 imports only; may be absent)
        signing/<id>/cert.pem       one signing certificate per subdirectory, <id> =
                                    "<NNNN sequence>-<notBefore as YYYYMMDDTHHMMSSZ>-<first 16
                                    hex of its SHA-256 fingerprint>": names sort by rotation
        signing/<id>/key.pem        its private key
        retired-ca/<fp16>/ca.pem    a CA replaced by an imported one (write_key_dir(replace_ca=
                                    True)), with its ca.key.pem and chain.pem if it had them

Rotation adds a ``signing/<id>/`` directory; the newest certificate whose ``key.pem`` is
present signs. Retiring a key deletes its ``key.pem`` and keeps ``cert.pem``, so reports it
signed still verify (they verify against ``ca.pem``, which does not change on rotation).
Importing a PKCS#12 from the organisation's own CA replaces the CA explicitly; ``trust_roots``
then answers the current and the retired CA certificates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

CA_YEARS = 10
SIGNING_YEARS = 2
DEFAULT_KEY_SIZE = 3072
# Room for clock skew between the signing host and a verifier.
BACKDATE = dt.timedelta(minutes=5)
# Organisation slugs (Django SlugField, max 64); never "." or "..", never a path.
_ORG_DIR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SIGNING_DIR = re.compile(r"^[0-9]{4}-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{16}$")


@dataclass(frozen=True)
class SigningMaterial:
    """A signing key, its certificate and the issuers up to and including the root."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def root(self) -> x509.Certificate:
        return self.chain[-1] if self.chain else self.cert


@dataclass(frozen=True)
class CaBundle:
    """An organisation CA (its key only when we created it) and its current signing material."""

    ca_cert: x509.Certificate
    ca_key: rsa.RSAPrivateKey | None
    signing: SigningMaterial

    @property
    def ca_cert_pem(self) -> bytes:
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def ca_cert_der(self) -> bytes:
        return self.ca_cert.public_bytes(serialization.Encoding.DER)


def create_organisation_ca(
    org_name: str, *, now: dt.datetime, key_size: int = DEFAULT_KEY_SIZE
) -> CaBundle:
    """A self-signed RSA organisation CA (10 years) and a signing certificate it issued."""
    _require_aware(now)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{org_name} report signing CA"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS + CA_YEARS // 4))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    signing = issue_signing_material(ca_cert, ca_key, now=now, key_size=key_size)
    return CaBundle(ca_cert=ca_cert, ca_key=ca_key, signing=signing)


def issue_signing_material(
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    *,
    now: dt.datetime,
    key_size: int = DEFAULT_KEY_SIZE,
) -> SigningMaterial:
    """A new RSA document-signing key and a 2-year certificate from the organisation CA."""
    _require_aware(now)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    org = ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    org_name = str(org[0].value) if org else "riskreg"
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"{org_name} report signing {now.date().isoformat()}"
            ),
        ]
    )
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(
            min(now + dt.timedelta(days=365 * SIGNING_YEARS), ca_cert.not_valid_after_utc)
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return SigningMaterial(key=key, cert=cert, chain=(ca_cert,))


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _require_aware(now: dt.datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def ca_fingerprint(cert_pem: bytes) -> str:
    """The SHA-256 fingerprint as auditors compare it: ``SHA256:AB:CD:...``."""
    digest = ca_fingerprint_hex(cert_pem).upper()
    return "SHA256:" + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def ca_fingerprint_hex(cert_pem: bytes) -> str:
    """The SHA-256 fingerprint of the certificate's DER encoding, plain lowercase hex."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def load_pkcs12(data: bytes, passphrase: bytes) -> CaBundle:
    """An organisation's own PKCS#12 (RSA key, signing certificate, chain up to its root).

    Raises:
        ValueError: wrong passphrase, not PKCS#12, no key or certificate, a non-RSA key, a
            certificate without digitalSignature + nonRepudiation, or a chain that does not
            end in a self-signed root.
    """
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        raise ValueError(
            "could not open the PKCS#12 file: wrong passphrase or not PKCS#12"
        ) from exc
    if key is None or cert is None:
        raise ValueError("the PKCS#12 file must hold a private key and its certificate")
    if not isinstance(key, rsa.RSAPrivateKey):
        # PDF/A-3 needs RSA: an EC key makes pyHanko write PDF 2.0 (docs pitfalls).
        raise ValueError("the PKCS#12 key must be RSA")
    try:
        usage: x509.KeyUsage | None = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not (usage.digital_signature and usage.content_commitment):
        # pyHanko signs and validates only with nonRepudiation (PAdES "commitment") set.
        raise ValueError(
            "the PKCS#12 certificate needs keyUsage digitalSignature and nonRepudiation"
        )
    chain = _order_chain(cert, list(extra))
    if not chain or chain[-1].subject != chain[-1].issuer:
        raise ValueError("the PKCS#12 file must include the chain up to a self-signed root CA")
    signing = SigningMaterial(key=key, cert=cert, chain=tuple(chain))
    return CaBundle(ca_cert=chain[-1], ca_key=None, signing=signing)


def _order_chain(leaf: x509.Certificate, pool: list[x509.Certificate]) -> list[x509.Certificate]:
    """Issuers of ``leaf`` from ``pool``, nearest first (by name; signatures are checked later)."""
    chain: list[x509.Certificate] = []
    current = leaf
    while current.issuer != current.subject:
        issuer = next((c for c in pool if c.subject == current.issuer and c not in chain), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return chain


# -- key directory ---------------------------------------------------------------------------


def write_key_dir(
    path: Path, bundle: CaBundle, *, passphrase: bytes | None, replace_ca: bool = False
) -> Path:
    """Create (or extend) a key directory with the bundle's CA and signing material.

    Returns the new signing material's directory. A bundle under another CA than the stored
    one is refused unless ``replace_ca``: then the old CA files move to
    ``retired-ca/<fingerprint>/`` (old reports still verify against them) and the bundle's
    CA becomes the current one.
    """
    _make_private_dir(path)
    ca_file = path / "ca.pem"
    if ca_file.exists():
        existing = x509.load_pem_x509_certificate(ca_file.read_bytes())
        if existing != bundle.ca_cert:
            if not replace_ca:
                raise ValueError(f"{path} already holds another organisation CA")
            _retire_ca(path, existing)
    if not ca_file.exists():
        _write_private(ca_file, bundle.ca_cert_pem)
    if bundle.ca_key is not None and not (path / "ca.key.pem").exists():
        _write_private(path / "ca.key.pem", _key_pem(bundle.ca_key, passphrase))
    intermediates = bundle.signing.chain[:-1]
    if intermediates:
        _write_private(path / "chain.pem", b"".join(_pem(c) for c in intermediates))
    else:
        (path / "chain.pem").unlink(missing_ok=True)
    return add_signing_material(path, bundle.signing, passphrase=passphrase)


def _retire_ca(path: Path, ca_cert: x509.Certificate) -> None:
    """Move the current CA's files aside; its signing certificates stay where they are."""
    target = path / "retired-ca" / ca_cert.fingerprint(hashes.SHA256()).hex()[:16]
    _make_private_dir(path / "retired-ca")
    _make_private_dir(target)
    for name in ("ca.pem", "ca.key.pem", "chain.pem"):
        if (path / name).exists():
            (path / name).replace(target / name)


def add_signing_material(
    path: Path, material: SigningMaterial, *, passphrase: bytes | None
) -> Path:
    """Store one more signing certificate and key (rotation); older ones stay."""
    cert = material.cert
    _make_private_dir(path / "signing")
    # A sequence number orders rotations made within the same second (notBefore is in seconds).
    sequence = 1 + max((int(d.name.split("-", 1)[0]) for d in _signing_dirs(path)), default=0)
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()[:16]
    target = (
        path
        / "signing"
        / f"{sequence:04d}-{cert.not_valid_before_utc:%Y%m%dT%H%M%SZ}-{fingerprint}"
    )
    _make_private_dir(target)
    _write_private(target / "cert.pem", _pem(cert))
    _write_private(target / "key.pem", _key_pem(material.key, passphrase))
    return target


def rotate_signing_key(
    path: Path, *, now: dt.datetime, passphrase: bytes | None, key_size: int = DEFAULT_KEY_SIZE
) -> SigningMaterial:
    """Issue a new signing certificate from the stored CA key; the old ones stay for verification.

    Raises:
        ValueError: the directory has no CA key (an imported PKCS#12: import a new one instead).
    """
    ca_key_file = path / "ca.key.pem"
    if not ca_key_file.exists():
        raise ValueError(f"{path} has no CA key; import the organisation's new PKCS#12 instead")
    ca_cert = x509.load_pem_x509_certificate((path / "ca.pem").read_bytes())
    ca_key = _load_key(ca_key_file, passphrase)
    material = issue_signing_material(ca_cert, ca_key, now=now, key_size=key_size)
    add_signing_material(path, material, passphrase=passphrase)
    return material


def load_signer(path: Path, *, passphrase: bytes | None = None) -> SigningMaterial:
    """The newest signing certificate in the key directory that still has its key.

    Raises:
        ValueError: no usable signing key, or a wrong passphrase.
    """
    candidates = [d for d in _signing_dirs(path) if (d / "key.pem").exists()]
    if not candidates:
        raise ValueError(f"{path} holds no signing key")
    newest = candidates[-1]
    cert = x509.load_pem_x509_certificate((newest / "cert.pem").read_bytes())
    key = _load_key(newest / "key.pem", passphrase)
    chain = [*_read_certs(path / "chain.pem"), *_read_certs(path / "ca.pem")]
    return SigningMaterial(key=key, cert=cert, chain=tuple(chain))


def signing_certificates(path: Path) -> list[x509.Certificate]:
    """Every signing certificate the directory ever held, oldest first (current and retired)."""
    return [
        x509.load_pem_x509_certificate((d / "cert.pem").read_bytes()) for d in _signing_dirs(path)
    ]


def trust_roots(path: Path) -> list[bytes]:
    """The PEM CA certificates that anchor the organisation's reports, current CA first."""
    retired = sorted((path / "retired-ca").glob("*/ca.pem"))
    return [(path / "ca.pem").read_bytes(), *(file.read_bytes() for file in retired)]


def _signing_dirs(path: Path) -> list[Path]:
    """Signing subdirectories in rotation order (oldest first)."""
    root = path / "signing"
    if not root.is_dir():
        return []
    return sorted(
        d for d in root.iterdir() if _SIGNING_DIR.fullmatch(d.name) and (d / "cert.pem").is_file()
    )


def _load_key(file: Path, passphrase: bytes | None) -> rsa.RSAPrivateKey:
    data = file.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as exc:
        # cryptography raises TypeError when a password is missing or superfluous.
        raise ValueError(f"{file.name}: passphrase required or not expected") from exc
    except ValueError as exc:
        raise ValueError(f"{file.name}: wrong passphrase or damaged key file") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{file.name}: not an RSA key")
    return key


def _read_certs(file: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(file.read_bytes()) if file.exists() else []


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey, passphrase: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # mkdir's mode is masked by the umask, and exist_ok keeps old modes


def _write_private(file: Path, data: bytes) -> None:
    """Write with 0600 from the first byte (no window where the key is world-readable)."""
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    file.chmod(0o600)


# -- settings (the only Django touch) ---------------------------------------------------------


def settings_key_dir(organisation: str) -> Path:
    """The organisation's key directory under ``settings.RISKREG_KEYS_DIR``."""
    from django.conf import settings

    if not _ORG_DIR.fullmatch(organisation):
        raise ValueError("an organisation's key directory is named by its slug")
    return Path(settings.RISKREG_KEYS_DIR) / organisation


def settings_passphrase() -> bytes | None:
    """``settings.RISKREG_KEY_PASSPHRASE`` as bytes, or None when unset."""
    from django.conf import settings

    value: str = settings.RISKREG_KEY_PASSPHRASE
    return value.encode() if value else None
