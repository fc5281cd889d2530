"""The content-once index led by the hash, so the bodies stage's lookup of a batch's hashes
cannot be planned through the account's other index (services/sync/bodies.py, _holders)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_oauth_grant'),
        ('mailbox', '0014_fewer_indexes'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='message',
            name='content_once_by_hash',
        ),
        migrations.AddConstraint(
            model_name='message',
            constraint=models.UniqueConstraint(condition=models.Q(('sha256', ''), _negated=True), fields=('sha256', 'account'), name='content_once_by_hash'),
        ),
    ]
