"""The worker's lifespan startup (``studio.asgi``): what a first request would load is loaded
before the server takes connections."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import crispy_tailwind
from django.conf import settings
from django.template import engines
from django.test import override_settings

from studio import asgi

# A fresh interpreter: this one loaded the URLconf, the catalogs and the templates long ago.
_STARTUP = textwrap.dedent(
    """
    import asyncio, json, sys
    from django.conf import settings
    from django.template import engines
    from django.utils.translation import trans_real
    from studio.asgi import application

    def loaded():
        cached = engines["django"].engine.template_loaders[0].get_template_cache
        return {
            "urlconf": settings.ROOT_URLCONF in sys.modules,
            "languages": sorted(trans_real._translations),
            "templates": sorted(cached),
        }

    async def main():
        before = loaded()
        messages = asyncio.Queue()
        sent = []

        async def send(message):
            sent.append(message["type"])

        await messages.put({"type": "lifespan.startup"})
        lifespan = asyncio.create_task(application({"type": "lifespan"}, messages.get, send))
        while not sent:
            await asyncio.sleep(0.01)
        after = loaded()
        await messages.put({"type": "lifespan.shutdown"})
        await lifespan
        print(json.dumps({"before": before, "after": after, "sent": sent}))

    asyncio.run(main())
    """
)


def test_lifespan_startup_loads_the_urlconf_languages_and_templates_before_serving(tmp_path):
    """A worker's first request used to import every view module (through the URLconf) and
    load the catalogs while its client waited: 2 s on a loaded machine; each page's first
    render compiled its templates. Now the lifespan startup does it all, and uvicorn serves
    only after that."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEEPSEEK_API_KEY", "REDIS_URL")}
    env |= {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "GENERATION_SWEEP_INTERVAL": "0",
    }
    result = subprocess.run(  # noqa: S603 — this interpreter, a fixed script
        [sys.executable, "-c", _STARTUP],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["sent"] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    languages = {code for code, _name in settings.LANGUAGES}
    assert seen["before"]["urlconf"] is False
    assert not languages <= set(seen["before"]["languages"])  # Chinese, at least, not yet
    assert seen["after"]["urlconf"] is True
    assert languages <= set(seen["after"]["languages"])
    project = settings.BASE_DIR / "templates"
    names = {p.relative_to(project).as_posix() for p in project.rglob("*.html")}
    assert seen["before"]["templates"] == []
    assert names <= set(seen["after"]["templates"]) and "drafts/draft_detail.html" in names
    pack = Path(crispy_tailwind.__file__).parent / "templates"
    forms = {p.relative_to(pack).as_posix() for p in (pack / "tailwind").rglob("*.html")}
    assert forms <= set(seen["after"]["templates"]) and "tailwind/field.html" in forms


def test_a_template_that_does_not_compile_is_logged_and_the_worker_still_starts(tmp_path, caplog):
    """Its page fails as it would have; every other page of the studio is served."""
    (tmp_path / "fine.html").write_text("{{ draft }}")
    (tmp_path / "broken.html").write_text("{% if %}")
    templates = [settings.TEMPLATES[0] | {"DIRS": [tmp_path]}]
    with override_settings(TEMPLATES=templates):
        asgi.warm_up()
        cached = engines["django"].engine.template_loaders[0].get_template_cache

        assert "fine.html" in cached
    assert "Template broken.html does not compile" in caplog.text
