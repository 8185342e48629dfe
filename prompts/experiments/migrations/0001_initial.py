"""The experiment and batch models, moved from the prompts app: their tables (prompts_experiment…)
and rows stay as they were; only Django's record of the models moves. Their content types
(and so permissions and admin history) follow them to the new app label."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = [
    "experiment",
    "variant",
    "experimentrun",
    "variantrun",
    "vote",
    "batch",
    "batchrow",
    "judgescore",
]


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="prompts", model__in=MODELS).update(app_label="experiments")


def content_types_return(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="experiments", model__in=MODELS).update(app_label="prompts")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('drafts', '0009_version_source_continued'),
        ('prompts', '0008_experiments_have_their_own_app'),
        ('workspaces', '0003_invitation_expiry'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables stay where they are (db_table): only Django's record of the models moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Experiment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120, verbose_name='name')),
                        ('hypothesis', models.CharField(blank=True, max_length=300, verbose_name='hypothesis')),
                        ('blind', models.BooleanField(default=True, verbose_name='blind review')),
                        ('status', models.CharField(choices=[('running', 'Running'), ('stopped', 'Stopped'), ('archived', 'Archived')], default='running', max_length=16)),
                        ('mode', models.CharField(choices=[('side_by_side', 'Side by side: every variant at once, editors vote'), ('single', 'Single variant: each editor gets one variant in the workspace')], default='side_by_side', max_length=16, verbose_name='mode')),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='experiments', to='workspaces.workspace')),
                    ],
                    options={
                        'db_table': 'prompts_experiment',
                        'ordering': ['-created', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Batch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120, verbose_name='name')),
                        ('source_name', models.CharField(blank=True, max_length=200)),
                        ('status', models.CharField(choices=[('ready', 'Ready to run'), ('queued', 'Waiting for a worker'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='ready', max_length=16)),
                        ('total', models.PositiveIntegerField(default=0)),
                        ('done_count', models.PositiveIntegerField(default=0)),
                        ('failed_count', models.PositiveIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                        ('origin', models.JSONField(blank=True, default=dict)),
                        ('rubric', models.TextField(blank=True, max_length=4000, verbose_name='rubric')),
                        ('judge_status', models.CharField(blank=True, choices=[('ready', 'Ready to run'), ('queued', 'Waiting for a worker'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], max_length=16)),
                        ('judge_total', models.PositiveIntegerField(default=0)),
                        ('judge_done', models.PositiveIntegerField(default=0)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('started', models.DateTimeField(blank=True, null=True)),
                        ('finished', models.DateTimeField(blank=True, null=True)),
                        ('progressed', models.DateTimeField(blank=True, null=True)),
                        ('attempt', models.PositiveIntegerField(default=0)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('experiment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='batches', to='experiments.experiment')),
                    ],
                    options={
                        'verbose_name_plural': 'batches',
                        'db_table': 'prompts_batch',
                        'ordering': ['-created', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='ExperimentRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('inputs', models.JSONField(default=dict)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('experiment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='runs', to='experiments.experiment')),
                    ],
                    options={
                        'db_table': 'prompts_experimentrun',
                        'ordering': ['-created', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Variant',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=60, verbose_name='name')),
                        ('model', models.CharField(blank=True, max_length=64, verbose_name='model override')),
                        ('temperature', models.FloatField(blank=True, null=True, verbose_name='temperature override')),
                        ('weight', models.PositiveIntegerField(default=1, verbose_name='weight')),
                        ('brand_voice_version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prompts.brandvoiceversion')),
                        ('experiment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='variants', to='experiments.experiment')),
                        ('version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prompts.templateversion')),
                    ],
                    options={
                        'db_table': 'prompts_variant',
                        'ordering': ['experiment', 'pk'],
                    },
                ),
                migrations.AddField(
                    model_name='experiment',
                    name='winner',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='experiments.variant'),
                ),
                migrations.CreateModel(
                    name='VariantRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveSmallIntegerField()),
                        ('generation', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='variant_run', to='drafts.generation')),
                        ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='columns', to='experiments.experimentrun')),
                        ('variant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='runs', to='experiments.variant')),
                    ],
                    options={
                        'db_table': 'prompts_variantrun',
                        'ordering': ['run', 'position'],
                    },
                ),
                migrations.CreateModel(
                    name='JudgeScore',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('scored', 'Scored'), ('unparseable', 'Unparseable reply'), ('failed', 'Call failed')], max_length=16)),
                        ('score', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('reason', models.CharField(blank=True, max_length=500)),
                        ('raw', models.TextField(blank=True)),
                        ('rubric', models.TextField(blank=True)),
                        ('model', models.CharField(blank=True, max_length=64)),
                        ('cost', models.DecimalField(blank=True, decimal_places=6, max_digits=12, null=True)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('batch', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='judge_scores', to='experiments.batch')),
                        ('output', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='judge_score', to='experiments.variantrun')),
                    ],
                    options={
                        'db_table': 'prompts_judgescore',
                        'ordering': ['batch', 'output'],
                    },
                ),
                migrations.CreateModel(
                    name='Vote',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('choice', models.CharField(choices=[('variant', 'This one'), ('tie', 'Tie'), ('both_bad', 'Both bad')], max_length=16)),
                        ('shown_order', models.JSONField(default=list)),
                        ('reason', models.CharField(blank=True, max_length=500, verbose_name='reason')),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('experiment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='votes', to='experiments.experiment')),
                        ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='votes', to='experiments.experimentrun')),
                        ('voter', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('winner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='wins', to='experiments.variant')),
                    ],
                    options={
                        'db_table': 'prompts_vote',
                        'ordering': ['-created', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='BatchRow',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('line', models.PositiveIntegerField()),
                        ('inputs', models.JSONField(default=dict)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('done', 'Done'), ('failed', 'Failed')], default='pending', max_length=16)),
                        ('error', models.TextField(blank=True)),
                        ('batch', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='experiments.batch')),
                        ('run', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='batch_row', to='experiments.experimentrun')),
                    ],
                    options={
                        'db_table': 'prompts_batchrow',
                        'ordering': ['batch', 'line'],
                        'constraints': [models.UniqueConstraint(fields=('batch', 'line'), name='unique_batch_line')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='variantrun',
                    constraint=models.UniqueConstraint(fields=('run', 'position'), name='unique_run_column'),
                ),
                migrations.AddConstraint(
                    model_name='variantrun',
                    constraint=models.UniqueConstraint(fields=('run', 'variant'), name='unique_run_variant'),
                ),
                migrations.AddConstraint(
                    model_name='judgescore',
                    constraint=models.CheckConstraint(condition=models.Q(('score__isnull', True), models.Q(('score__gte', 1), ('score__lte', 10)), _connector='OR'), name='judge_score_1_to_10'),
                ),
                migrations.AddConstraint(
                    model_name='vote',
                    constraint=models.UniqueConstraint(fields=('run', 'voter'), name='one_vote_per_run_and_voter'),
                ),
                migrations.AddConstraint(
                    model_name='vote',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('choice', 'variant'), ('winner__isnull', False)), models.Q(models.Q(('choice', 'variant'), _negated=True), ('winner__isnull', True)), _connector='OR'), name='winner_only_for_variant_votes'),
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_return),
    ]
