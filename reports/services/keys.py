"""The organisation's signing key: created on first use in the key directory (outside the
repository), or imported from a PKCS#12 its own CA issued; every certificate it signed with
is recorded, so that reports signed before a rotation still verify."""

from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import transaction
from django.utils import timezone

from reports.keys import (
    CaBundle,
    SigningMaterial,
    create_organisation_ca,
    load_pkcs12,
    load_signer,
    settings_key_dir,
    settings_passphrase,
    write_key_dir,
)
from reports.models import SigningCertificate
from reports.selectors import signing_certificates
from riskreg.audit.services import audit_append
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization


@dataclass(frozen=True)
class OrganisationSigner:
    signer: SigningMaterial
    fingerprint: str  # SHA-256 of the signing certificate, hex


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _record(organization_id: int, material: SigningMaterial, source: str) -> SigningCertificate:
    """The row of the certificate in use; a new one retires the previous."""
    fingerprint = _fingerprint(material.cert)
    found = SigningCertificate.objects.filter(
        organization_id=organization_id, fingerprint=fingerprint
    ).first()
    if found is not None:
        return found
    SigningCertificate.objects.filter(
        organization_id=organization_id, retired_at__isnull=True
    ).update(retired_at=timezone.now())
    root = material.root
    return SigningCertificate.objects.create(
        organization_id=organization_id,
        fingerprint=fingerprint,
        certificate_pem=material.cert_pem.decode(),
        ca_certificate_pem=root.public_bytes(Encoding.PEM).decode(),
        ca_fingerprint=_fingerprint(root),
        source=source,
    )


def organisation_signer(*, organization_id: int) -> OrganisationSigner:
    """The key reports are signed with, creating the organisation CA on first use."""
    with transaction.atomic():
        # One creator at a time: two workers must not each make a CA.
        org = Organization.objects.select_for_update().get(pk=organization_id)
        path = settings_key_dir(org.slug)
        passphrase = settings_passphrase()
        if not (path / "ca.pem").exists():
            bundle = create_organisation_ca(org.name, now=timezone.now())
            write_key_dir(path, bundle, passphrase=passphrase)
        material = load_signer(path, passphrase=passphrase)
        # riskreg holds the CA key only for a CA it created itself.
        source = "generated" if (path / "ca.key.pem").exists() else "imported"
        row = _record(org.pk, material, source)
    return OrganisationSigner(signer=material, fingerprint=row.fingerprint)


@transaction.atomic
def signing_key_import(*, actor: Actor, pkcs12: bytes, passphrase: bytes) -> SigningCertificate:
    """Use a key and certificate issued by the organisation's own CA from now on."""
    org = Organization.objects.select_for_update().get(pk=actor.organization_id)
    bundle: CaBundle = load_pkcs12(pkcs12, passphrase)
    # The organisation's own CA replaces one riskreg generated; the old one stays trusted
    # for the reports it signed.
    write_key_dir(
        settings_key_dir(org.slug), bundle, passphrase=settings_passphrase(), replace_ca=True
    )
    row = _record(org.pk, bundle.signing, "imported")
    audit_append(
        actor=actor,
        action="signing_key.import",
        object_type="signing_certificate",
        object_id=row.fingerprint,
        changes={"ca_fingerprint": {"before": None, "after": row.ca_fingerprint}},
    )
    return row


def organisation_certificates(*, organization_id: int) -> list[dict[str, Any]]:
    """Every certificate the organisation has signed with, as the API shows them."""
    return [
        {
            "fingerprint": row.fingerprint,
            "ca_fingerprint": row.ca_fingerprint,
            "certificate_pem": row.certificate_pem,
            "ca_certificate_pem": row.ca_certificate_pem,
            "source": row.source,
            "created_at": row.created_at,
            "retired_at": row.retired_at,
        }
        for row in signing_certificates(organization_id=organization_id)
    ]


def trust_roots_for(*, organization_id: int) -> list[bytes]:
    """The CA certificates (PEM) that anchor the organisation's signed reports."""
    pems = signing_certificates(organization_id=organization_id).values_list(
        "ca_certificate_pem", flat=True
    )
    return [pem.encode() for pem in dict.fromkeys(pems)]
