import pytest
from django.core.management import CommandError, call_command

from governance import content, policy_yaml, services
from governance.models import PolicyVersion

pytestmark = pytest.mark.django_db


def test_a_template_loads_from_the_command_line_under_a_named_lead(lead, capsys):
    call_command("load_policy_template", "preparedness", user="lena")
    assert "Loaded preparedness-template as draft version 1" in capsys.readouterr().out
    version = PolicyVersion.objects.get()
    assert (version.state, version.levels.count(), version.created_by) == ("draft", 3, lead)


def test_only_a_governance_lead_may_change_the_register_from_the_command_line(owner):
    with pytest.raises(CommandError, match="not a governance lead"):
        call_command("load_policy_template", "rsp", user="omar")
    with pytest.raises(CommandError, match="No active person"):
        call_command("load_policy_template", "rsp", user="ghost")
    assert not PolicyVersion.objects.exists()


def test_export_then_import_round_trips_through_files(lead, tmp_path, capsys):
    services.template_load(actor=lead, name="fsf")
    call_command("export_policy", "fsf-template:1")
    exported = capsys.readouterr().out
    assert policy_yaml.parse(exported)["policy"]["slug"] == "fsf-template"
    path = tmp_path / "copy.yaml"
    path.write_text(exported.replace("fsf-template", "fsf-copy"), encoding="utf-8")
    call_command("import_policy", str(path), user="lena")
    copy = PolicyVersion.objects.get(policy__slug="fsf-copy")
    original = PolicyVersion.objects.get(policy__slug="fsf-template")
    left = content.version_content(content.load_version(copy.pk))
    right = content.version_content(content.load_version(original.pk))
    assert left["thresholds"] == right["thresholds"]


def test_a_bad_file_is_reported_line_by_line_and_nothing_is_stored(lead, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(services.template_text("rsp").replace("signing_quorum: 1", "signing_quorum: 0"))
    with pytest.raises(CommandError, match=r"line \d+: version.signing_quorum: must be at least 1"):
        call_command("import_policy", str(path), user="lena")
    assert not PolicyVersion.objects.exists()


def test_export_policy_names_what_it_cannot_find(lead):
    with pytest.raises(CommandError, match="No such policy version: nope"):
        call_command("export_policy", "nope")
    with pytest.raises(CommandError, match="must be a version number"):
        call_command("export_policy", "nope:x")
