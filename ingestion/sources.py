"""Drop folders: files a sender leaves on shared storage, received nightly.

Each active source with ``drop_folder`` set reads ``FEED_DROP_DIR/<folder>/``;
every regular, non-hidden file there is received like an upload (channel
"drop_folder") and then moved to ``received/`` inside the folder, so it is
never picked up twice (and a re-delivered copy is a no-op by its SHA-256).
"""

import logging
from pathlib import Path

from django.conf import settings

from ingestion.models import Channel, FeedSource
from ingestion.services import feed_file_receive, feed_file_too_large

logger = logging.getLogger(__name__)


def drop_folders_scan() -> int:
    """Receive every waiting file; return how many were received."""
    root = Path(settings.FEED_DROP_DIR)
    received = 0
    for source in FeedSource.objects.filter(is_active=True).exclude(drop_folder=""):
        folder = root / source.drop_folder
        if not folder.is_dir():
            continue
        done = folder / "received"
        for path in sorted(folder.iterdir()):
            # A link could point at another source's folder: files only.
            if path.is_symlink() or not path.is_file() or path.name.startswith("."):
                continue
            if path.stat().st_size > settings.FEED_MAX_BYTES:
                # Refused without reading it into memory.
                receipt = feed_file_too_large(
                    source=source, channel=Channel.DROP_FOLDER, actor=None
                )
            else:
                receipt = feed_file_receive(
                    source=source,
                    data=path.read_bytes(),
                    channel=Channel.DROP_FOLDER,
                    actor=None,
                )
            done.mkdir(exist_ok=True)
            path.rename(done / f"{receipt.run.pk}-{path.name}")
            received += 1
            logger.info(
                "feed source %s: drop-folder file received as run %s%s",
                source.pk,
                receipt.run.pk,
                " (already received)" if receipt.duplicate else "",
            )
    return received
