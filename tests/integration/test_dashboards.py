"""One short run logged to CSV, TensorBoard and W&B (offline): every logger's x-axis is images shown /
progress/kimg, images sit at the step of the scalars of the same moment, and the terminal is free
of the libraries' noise."""

import json
import re
import struct
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow

RUN = ["experiment=smoke/pggan", "data.resolution=16", "total_kimg=0.3", "callbacks.samples.every_kimg=0.1", "logger=[csv,tensorboard,wandb]"]
NOISE = ("litlogger", "LeafSpec", "in eval mode", "anonymous setting", "\x1b[")


def wandb_records(path: Path):
    """The records of a W&B transaction log (.wandb): a LevelDB-style log of 32 KiB blocks after a
    7-byte header, each chunk [crc32 (4), length (2, little-endian), type (1): full, first, middle, last]."""
    from wandb.proto import wandb_internal_pb2

    data, position, chunks = path.read_bytes(), 7, []
    assert data[:4] == b":W&B"
    while position + 7 <= len(data):
        if 32768 - position % 32768 < 7:  # a block's tail too short for a chunk header is padding
            position += 32768 - position % 32768
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        chunk = data[position + 7 : position + 7 + length]
        position += 7 + length
        chunks = [chunk] if kind in (1, 2) else [*chunks, chunk]
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(b"".join(chunks))
            yield record


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboards")
    result = run_cli("train", *RUN, f"hydra.run.dir={tmp / 'run'}", cwd=tmp, env={"WANDB_MODE": "offline", "WANDB_DIR": str(tmp)})
    return tmp / "run", result


def test_wandb_plots_every_value_and_image_against_kimg_and_images_at_the_step_of_their_scalars(run):
    run_dir, _ = run
    (log,) = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    records = list(wandb_records(log))
    axis = [r.metric.step_metric for r in records if r.WhichOneof("record_type") == "metric" and r.metric.glob_name == "*"]
    assert axis[-1] == "progress/kimg", axis  # the last definition of "*" is the one W&B plots by
    rows = []
    for record in records:
        if record.WhichOneof("record_type") == "history":
            rows.append({"/".join(item.nested_key) or item.key: json.loads(item.value_json) for item in record.history.item})
    scalars = [row for row in rows if "loss/D_main" in row]
    images = [row for row in rows if "samples/_type" in row]
    assert len(scalars) >= 3 and len(images) >= 4
    assert all("progress/kimg" in row and "trainer/global_step" not in row for row in rows)
    assert {"lr/G", "lr/D", "timing/sec_per_kimg", "memory/peak_rss_gb"} <= set(scalars[-1])
    scalar_kimg = {row["progress/kimg"] for row in scalars}
    assert [row["progress/kimg"] for row in images] == [0, 0.128, 0.224, 0.32]
    assert all(row["progress/kimg"] in scalar_kimg for row in images[1:]), (images, scalar_kimg)  # the grid at 0 precedes any step
    (run_record,) = [r.run for r in records if r.WhichOneof("record_type") == "run"][:1]
    assert run_record.display_name.startswith("smoke/pggan data.resolution=16 total_kimg=0.3")
    resolved = next(run_dir.glob("wandb/offline-run-*/files/config_resolved.yaml")).read_text()
    assert "output_dir: " + str(run_dir) in resolved and "${" not in resolved


def test_tensorboard_and_csv_use_images_shown_as_the_step_of_scalars_and_images(run):
    import csv

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, _ = run
    events = EventAccumulator(str(run_dir / "tensorboard/version_0"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    scalar_steps = [event.step for event in events.Scalars("loss/D_main")]
    image_steps = [event.step for event in events.Images("samples")]
    assert scalar_steps == [128, 160, 224, 320] and image_steps == [0, 128, 224, 320]
    assert [round(event.value * 1000) for event in events.Scalars("progress/kimg")] == scalar_steps
    rows = list(csv.DictReader((run_dir / "csv/version_0/metrics.csv").open()))
    assert [int(row["step"]) for row in rows] == scalar_steps


def test_terminal_has_no_library_noise_and_one_message_a_line(run):
    _, result = run
    output = result.stdout + result.stderr
    assert not [noise for noise in NOISE if noise in output], output[-3000:]
    segments = re.split(r"[\r\n]", output)
    saved = [segment for segment in segments if "last.ckpt" in segment]
    assert saved and all(re.match(r"saved \S+last\.ckpt$", segment) for segment in saved), saved
