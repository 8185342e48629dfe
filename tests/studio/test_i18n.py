"""English and Simplified Chinese: the catalogue is complete and the UI switches."""

from pathlib import Path

import polib
from django.urls import reverse

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_string_in_the_chinese_catalogue_is_translated():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    assert po.untranslated_entries() == [] and po.fuzzy_entries() == []
    assert po.percent_translated() == 100


def test_the_compiled_catalogue_matches_the_sources():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))
    assert {e.msgid: e.msgstr for e in po if not e.msgid_plural} == {
        e.msgid: e.msgstr for e in mo if not e.msgid_plural and e.msgid
    }


def test_the_language_switcher_turns_the_studio_chinese(client, user, workspace, demo_templates):
    client.force_login(user)

    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": workspace.get_absolute_url()}
    )
    page = client.get(response["Location"])

    html = page.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "生成" in html and "最近的草稿" in html


def test_the_login_page_is_translated_before_logging_in(client):
    response = client.get(reverse("login"), headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in response.content.decode()
