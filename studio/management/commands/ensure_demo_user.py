from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from prompts.models import PromptTemplate
from studio.workspaces.actions import create_workspace


class Command(BaseCommand):
    help = (
        "Create the demo login (and its first workspace) if it does not exist, load the demo "
        "knowledge and campaigns into that workspace, and print the login."
    )

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        user = User.objects.filter(username="demo").first()
        if user is None:
            user = User.objects.create_user("demo", password=settings.DEMO_PASSWORD)
            create_workspace(name="Demo workspace", owner=user)
            self.stdout.write(self.style.SUCCESS("Created the demo login."))
        call_command("load_demo_knowledge", stdout=self.stdout)
        if PromptTemplate.objects.filter(workspace=None, slug="ad-headlines").exists():
            call_command("load_demo_campaigns", stdout=self.stdout)
        self.stdout.write(f"Log in as: demo / {settings.DEMO_PASSWORD}  (DEMO_PASSWORD to change)")
