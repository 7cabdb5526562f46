"""Writes tests/fixtures/assets/: the OCSF asset models of the Python
SDK's models package (sekoia-automation-models), as pydantic reads and
dumps them, for tests/asset_models.rs.

    /tmp/sdk/bin/python scripts/asset_fixtures.py

For each valid case NAME: NAME.input.json (what is given, as JSON) and
NAME.json (the bytes the Python SDK sends: json.dumps of
AssetList.model_dump(exclude_none=True)). For each invalid case:
invalid/NAME.json, an AssetList pydantic refuses (checked here).
"""

import json
import pathlib

from pydantic import ValidationError
from sekoia_automation_models.connector import AssetList

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "assets"


def base(class_name, class_uid, type_uid, **extra):
    value = {
        "activity_id": 2,
        "activity_name": "Collect",
        "category_name": "Discovery",
        "category_uid": 5,
        "class_name": class_name,
        "class_uid": class_uid,
        "type_name": f"{class_name}: Collect",
        "type_uid": type_uid,
        "time": 1733200000,
        "metadata": {"product": {"name": "Vendor"}, "version": "1.5.0"},
    }
    value.update(extra)
    return value


DEVICE = {"type_id": 1, "type": "Server", "uid": "dev-1", "hostname": "srv-01"}

DEVICE_FULL = {
    "type_id": 2,
    "type": "Desktop",
    "uid": "d\u00e9v-\U0001f600",
    "location": {"city": "Paris", "country": "FR"},
    "os": {"name": "Windows 11 Pro", "type": "windows", "type_id": 100},
    "hostname": 'pc "quoted" \\ back\nline',
    "autoscale_uid": None,
    "boot_time": 1733200000.123456,
    "boot_uid": "b",
    "created_time": 0.1,
    "desc": "\u2028 separator",
    "domain": "corp.example",
    "eid": "e",
    "first_seen_time": 1e16,
    "groups": [{"name": "admins", "desc": "d", "privileges": ["a", "b"], "uid": "g1"}, {"name": "users"}],
    "hypervisor": "kvm",
    "iccid": "i",
    "imei_list": ["1", "2"],
    "ip": "10.0.0.1",
    "is_backed_up": True,
    "is_compliant": False,
    "is_managed": True,
    "is_mobile_account_active": False,
    "is_personal": False,
    "is_shared": True,
    "is_supervised": False,
    "is_trusted": True,
    "last_seen_time": 2.5e-7,
    "meid": "m",
    "model": "X1",
    "name": "PC",
    "network_interfaces": [
        {"hostname": "h", "ip": "10.0.0.1", "mac": "aa:bb", "name": "eth0", "type": "Wired", "type_id": 1, "uid": "n1"},
        {"type_id": 99},
    ],
    "org": {"name": "Org", "ou_name": "OU", "ou_uid": "ou1", "uid": "o1"},
    "os_machine_uuid": "u",
    "region": "eu",
    "risk_level": "High",
    "risk_level_id": 3,
    "risk_score": -9007199254740993,
    "subnet": "10.0.0.0/24",
    "udid": "ud",
    "uid_alt": "alt",
    "vendor_name": "Vendor",
}

USER = {
    "has_mfa": True,
    "name": "jdoe",
    "uid": "u-1",
    "account": {"name": "jdoe", "type_id": 6, "type": "Azure AD Account", "uid": "a1"},
    "groups": [{"name": "g"}],
    "full_name": "J\u00f6hn Doe",
    "email_addr": "j@example.com",
    "display_name": "John",
    "domain": "example.com",
    "forward_addr": "f@example.com",
    "risk_level": "Low",
    "risk_level_id": 1,
    "risk_score": 10,
    "type_id": 2,
    "type": "Admin",
    "uid_alt": "alt",
    "org": {"name": "Org"},
    "ldap_person": {"job_title": "CTO", "department": "IT", "employee_uid": "e", "given_name": "J", "surname": "D", "office_location": "Paris"},
}

SOFTWARE = {
    "uid": "s1",
    "name": "Firefox",
    "version": "128.0",
    "purl": "pkg:generic/firefox@128.0",
    "vendor_name": "Mozilla",
    "path": "C:\\Program Files\\Firefox",
    "install_time": 1733200000,
    "last_used_time": 1733200001.5,
    "os": {"name": "Windows", "type_id": 100},
    # The validators fill the other member of each pair.
    "hashes": [{"algorithm_id": 3, "value": "abc"}, {"algorithm": "SHA-512/256", "value": "def"}, {"value": "ghi"}],
    "signature": {
        "algorithm": "Authenticode",
        "certificate": {
            "created_time": 1.0,
            "expiration_time": 2,
            "fingerprints": [{"algorithm": "SHA-1", "value": "f"}],
            "is_self_signed": False,
            "issuer": "CA",
            "subject": "CN=x",
            "serial_number": "01",
            "sans": ["a", "b"],
            "uid": "c1",
            "version": "3",
        },
        "state_id": 8,
        "created_time": 3.25,
        "digest": {"algorithm_id": 17, "value": "d"},
    },
    "binary_name": "firefox.exe",
    "architecture": "x64",
    "last_user_name": "jdoe",
    "last_used_file_name": "f",
}

SBOM = {
    "package": {"name": "openssl", "version": "3.0.2", "uid": "p", "cpe_name": "cpe", "purl": "purl", "license": "Apache-2.0", "license_url": "u", "release": "r", "type": "Application", "type_id": 1},
    "software_components": [{"version": "1", "name": "zlib", "author": "a", "type": "Library", "type_id": 2}],
    "type_id": 2,
    "uid": "sb",
    "version": "1.5",
}

VULNERABILITY = {
    "device": DEVICE,
    "finding_info": {
        "uid": "f-1",
        "data_sources": ["scanner"],
        "title": "CVE-2024-0001",
        "src_url": "https://example.com",
        "kill_chain": [{"phase": "Delivery", "phase_id": 3}, {"phase": "Command & Control"}],
        "desc": "d",
        "last_seen_time": 1733200000,
        "first_seen_time": 1733100000,
        "created_time": 1733000000,
        "attacks": [{"version": "14", "tactic": {"name": "t", "src_url": "u", "uid": "TA0001"}, "technique": {"uid": "T1059"}}],
        "types": ["vuln"],
        "product": {"name": "Scanner", "vendor_name": "V", "version": "2"},
    },
    "vulnerabilities": [
        {
            "title": "t",
            "desc": "d",
            "references": ["r"],
            "cve": {"uid": "CVE-2024-0001", "type": "t", "cvss": [{"version": "3.1", "base_score": 9.8}, {"version": "2.0"}], "desc": "d", "title": "t"},
            "severity": "Critical",
            "vendor_name": "V",
            "is_fix_available": True,
        }
    ],
    "confidence": "High",
    "confidence_id": 3,
    "confidence_score": 90,
    "risk_score": 80,
    "risk_level": "Critical",
    "risk_level_id": 4,
    "risk_details": "rd",
}

VALID = {
    "device_minimal": [base("Device Inventory Info", 5001, 500102, device=DEVICE)],
    "device_full": [
        base(
            "Device Inventory Info",
            5001,
            500102,
            severity="Informational",
            severity_id=1,
            time=1733200000.5,
            metadata={"product": {"name": "Vendor", "vendor_name": "V", "version": "9"}, "version": "1.5.0"},
            device=DEVICE_FULL,
            enrichments=[
                {
                    "name": "compliance",
                    "value": "v",
                    "data": {
                        "Firewall_status": "Enabled",
                        "Storage_encryption": {"partitions": {"C:": "Enabled", "D:": "Disabled", "A:": "Enabled"}},
                        "Users": ["a"],
                        "Full_qualified_domain_name": "pc.corp",
                    },
                },
                {"name": None},
            ],
        )
    ],
    "user": [base("User Inventory Info", 5003, 500302, user=USER, enrichments=[{"name": "login", "data": {"is_enabled": True, "last_logon": "x", "bad_password_count": 0, "number_of_logons": 7, "last_time_password_change": 1733200000, "external_device": "e"}}])],
    "user_minimal": [base("User Inventory Info", 5003, 500302, user={"name": "n", "uid": "u"})],
    "software": [base("Software Inventory Info", 5020, 502001, device=DEVICE, software=SOFTWARE, sbom=SBOM)],
    "software_sbom_sync": [
        base("Software Inventory Info", 5020, 502001, device=DEVICE, sbom={**SBOM, "type_id": None, "type": "SPDX"}),
        base("Software Inventory Info", 5020, 502001, device=DEVICE, sbom={**SBOM, "type_id": 0, "type": "SWID"}),
        base("Software Inventory Info", 5020, 502001, device=DEVICE, sbom={**SBOM, "type_id": 0}),
        base("Software Inventory Info", 5020, 502001, device=DEVICE, sbom={**SBOM, "type": "Unknown", "type_id": None}),
    ],
    "software_null_only": [base("Software Inventory Info", 5020, 502001, device=DEVICE, software=None)],
    "vulnerability": [base("Vulnerability Finding", 2002, 200201, **VULNERABILITY)],
    "vulnerability_without_device": [base("Vulnerability Finding", 2002, 200201, finding_info={"uid": "f"}, vulnerabilities=[])],
    "mixed_and_ignored_keys": [
        base("Device Inventory Info", 5001, 500102, device=DEVICE, user={"name": "n", "uid": "u"}, unknown_key=1),
        base("User Inventory Info", 5003, 500302, user={"name": "n", "uid": "u", "extra": True}),
        base("Vulnerability Finding", 2002, 200201, finding_info={"uid": "f"}, vulnerabilities=[], device=DEVICE),
    ],
    "empty": [],
    # Software whose `software` or `sbom` is invalid is still a valid
    # device asset (the union's device member ignores those keys).
    "software_invalid_read_as_device": [
        base("x", 1, 1, device=DEVICE, software={"hashes": [{"algorithm": "SHA-3", "value": "v"}]}),
        base("x", 1, 1, device=DEVICE, software={"hashes": [{"algorithm_id": 1}]}),
        base("x", 1, 1, device=DEVICE, software={"signature": {"certificate": {"serial_number": "1"}}}),
        base("x", 1, 1, device=DEVICE, sbom={"type_id": 1}),
    ],
    # A device whose enrichments are invalid is still a valid software
    # asset (the union's last member ignores `enrichments`).
    "device_invalid_enrichments_read_as_software": [
        base("x", 1, 1, device=DEVICE, enrichments=[{"data": {"Storage_encryption": {"partitions": {"C:": "On"}}}}]),
        base("x", 1, 1, device=DEVICE, enrichments=[{"data": {"Firewall_status": "enabled"}}]),
    ],
}

INVALID = {
    "device_missing_hostname": [base("x", 1, 1, device={k: v for k, v in DEVICE.items() if k != "hostname"})],
    "device_type_id_unknown": [base("x", 1, 1, device={**DEVICE, "type_id": 3})],
    "device_type_unknown": [base("x", 1, 1, device={**DEVICE, "type": "Laptop"})],
    "os_type_wrong_case": [base("x", 1, 1, device={**DEVICE, "os": {"type": "Windows"}})],
    "severity_unknown": [base("x", 1, 1, severity="Severe", device=DEVICE)],
    "missing_time": [{k: v for k, v in base("x", 1, 1, device=DEVICE).items() if k != "time"}],
    "missing_metadata_product": [base("x", 1, 1, metadata={"version": "1"}, device=DEVICE)],
    "hostname_not_a_string": [base("x", 1, 1, device={**DEVICE, "hostname": 5})],
    "hostname_null": [base("x", 1, 1, device={**DEVICE, "hostname": None})],
    "time_not_a_number": [base("x", 1, 1, time="soon", device=DEVICE)],
    "is_managed_not_a_bool": [base("x", 1, 1, device={**DEVICE, "is_managed": "maybe"})],
    "risk_level_unknown": [base("x", 1, 1, device={**DEVICE, "risk_level": "Extreme"})],
    "risk_level_id_unknown": [base("x", 1, 1, device={**DEVICE, "risk_level_id": 5})],
    "partition_state_unknown": [base("x", 1, 1, user={"name": "n", "uid": "u"}, enrichments=[{"data": {"Storage_encryption": {"partitions": {"C:": "On"}}}, "name": 5}])],
    "user_account_type_unknown": [base("x", 1, 1, user={**USER, "account": {"name": "a", "type_id": 3, "type": "Unknown"}})],
    "user_missing_uid": [base("x", 1, 1, user={"name": "n"})],
    "fingerprint_algorithm_unknown": [base("x", 1, 1, software={"hashes": [{"algorithm": "SHA-3", "value": "v"}]})],
    "fingerprint_missing_value": [base("x", 1, 1, software={"hashes": [{"algorithm_id": 1}]})],
    "certificate_missing_issuer": [base("x", 1, 1, software={"signature": {"certificate": {"serial_number": "1"}}})],
    "sbom_missing_package": [base("x", 1, 1, sbom={"type_id": 1})],
    "kill_chain_phase_unknown": [base("x", 1, 1, finding_info={"uid": "f", "kill_chain": [{"phase": "Recon"}]}, vulnerabilities=[])],
    "vulnerabilities_missing": [base("x", 1, 1, finding_info={"uid": "f"})],
    "finding_uid_missing": [base("x", 1, 1, finding_info={}, vulnerabilities=[])],
    "cvss_version_missing": [base("x", 1, 1, finding_info={"uid": "f"}, vulnerabilities=[{"cve": {"uid": "c", "cvss": [{"base_score": 1.0}]}}])],
    "no_model": [base("x", 1, 1)],
    "item_not_an_object": ["device"],
}


# What pydantic's lax mode coerces and this crate refuses (an intended
# difference: a Rust connector builds typed values; read from JSON, a value
# of the wrong JSON type is an error, not a guess).
LAX = {
    "int_as_string": [base("x", 1, 1, activity_id="2", device=DEVICE)],
    "int_as_integral_float": [base("x", 1, 1, activity_id=2.0, device=DEVICE)],
    "float_as_string": [base("x", 1, 1, time="1733200000.5", device=DEVICE)],
    "bool_as_string": [base("x", 1, 1, device={**DEVICE, "is_managed": "true"})],
    "bool_as_int": [base("x", 1, 1, device={**DEVICE, "is_managed": 1})],
    "enum_id_as_string": [base("x", 1, 1, device={**DEVICE, "type_id": "1"})],
    "int_beyond_64_bits": [base("x", 1, 1, device={**DEVICE, "risk_score": 2**64})],
}


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="ascii")


def main():
    for name, items in VALID.items():
        given = {"version": 1, "items": items}
        model = AssetList.model_validate(given)
        write(OUT / f"{name}.input.json", json.dumps(given) + "\n")
        write(OUT / f"{name}.json", json.dumps(model.model_dump(exclude_none=True)))
    for name, items in INVALID.items():
        given = {"version": 1, "items": items}
        try:
            AssetList.model_validate(given)
        except ValidationError:
            pass
        else:
            raise SystemExit(f"pydantic accepts the invalid case {name}")
        write(OUT / "invalid" / f"{name}.json", json.dumps(given) + "\n")
    for name, items in LAX.items():
        given = {"version": 1, "items": items}
        AssetList.model_validate(given)  # pydantic takes it
        write(OUT / "lax" / f"{name}.json", json.dumps(given) + "\n")
    # The fingerprints of field mappings, as _compute_schema_fingerprint.
    import hashlib

    mappings = {
        "simple": {"hostName": "device.hostname", "id": "device.uid"},
        "unicode": {"n\u00e4me": "user.full_name", "\U0001f600": "x", "a\"b": "c\\d"},
        "empty_values": {"": ""},
    }
    fingerprints = {
        name: {
            "fields": list(fields.items()),
            "fingerprint": hashlib.sha256(json.dumps(sorted(fields.items())).encode()).hexdigest(),
        }
        for name, fields in mappings.items()
    }
    write(OUT / "fingerprints.json", json.dumps(fingerprints, indent=2) + "\n")


if __name__ == "__main__":
    main()
