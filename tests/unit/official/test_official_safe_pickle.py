"""Official pickles are read as data: nothing they name runs, and foreign globals are refused by name."""

import os
import pickle

import numpy as np
import pytest
import torch

from gan_zoo.errors import CheckpointError
from gan_zoo.official.safe_pickle import PersistentRecord, load_pickle, module_state_dict
from tests.official_files import Crafted, persistent_module, stand_in_modules, write_pickle


def test_os_system_in_a_crafted_pickle_is_refused_by_name_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    path = write_pickle(tmp_path / "evil.pkl", {"G": Crafted(os.system, f"touch {marker}")})
    with pytest.raises(CheckpointError, match=r"names posix\.system|names os\.system"):
        load_pickle(path)
    assert not marker.exists()


@pytest.mark.parametrize("target", [eval, exec, getattr, __import__])
def test_builtins_that_run_code_are_refused(tmp_path, target):
    path = write_pickle(tmp_path / "evil.pkl", Crafted(target, "1"))
    with pytest.raises(CheckpointError, match=f"names builtins.{target.__name__}"):
        load_pickle(path)


def test_persistence_record_keeps_source_as_text_and_never_executes_it(tmp_path):
    marker = tmp_path / "executed"
    source = f"open({str(marker)!r}, 'w').write('x')\nclass Generator: pass\n"
    net = torch.nn.Linear(3, 2)
    path = write_pickle(tmp_path / "net.pkl", {"G": persistent_module(net, "Generator", source, {"in_features": 3})})
    data = load_pickle(path)
    record = data["G"]
    assert isinstance(record, PersistentRecord)
    assert record.class_name == "Generator" and record.module_src == source
    assert record.init_kwargs == {"in_features": 3}
    assert not marker.exists()
    state = module_state_dict(record)
    assert set(state) == {"weight", "bias"}
    torch.testing.assert_close(state["weight"], net.weight.detach(), rtol=0, atol=0)


def test_plain_torch_modules_become_inert_records_with_their_tensors(tmp_path):
    # Projected GAN pickles its FastGAN generator as ordinary nn.Module classes: the classes are
    # recorded by name, their code (here torch's) is not called to rebuild them.
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    net[1].running_mean.uniform_()
    path = tmp_path / "plain.pkl"
    with path.open("wb") as file:
        pickle.dump({"G": net}, file, protocol=pickle.HIGHEST_PROTOCOL)
    record = load_pickle(path)["G"]
    assert record.qualified_name == "torch.nn.modules.container.Sequential"
    state = module_state_dict(record)
    assert set(state) == set(net.state_dict())
    for key, value in net.state_dict().items():
        torch.testing.assert_close(state[key], value, rtol=0, atol=0)


def test_numpy_arrays_and_scalars_are_read(tmp_path):
    path = tmp_path / "arrays.pkl"
    with path.open("wb") as file:
        pickle.dump({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.float64(2.5)}, file)
    data = load_pickle(path)
    np.testing.assert_array_equal(data["a"], np.arange(6, dtype=np.float32).reshape(2, 3))
    assert data["s"] == 2.5


def test_truncated_pickle_is_a_sentence(tmp_path):
    path = write_pickle(tmp_path / "net.pkl", {"G": persistent_module(torch.nn.Linear(2, 2), "Generator", "")})
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="cannot be read as a network pickle"):
        load_pickle(path)


def test_protocol_5_numpy_arrays_are_read(tmp_path):
    path = tmp_path / "arrays5.pkl"
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    with path.open("wb") as file:
        pickle.dump({"a": array}, file, protocol=5)
    np.testing.assert_array_equal(load_pickle(path)["a"], array)


def test_dill_rebuilt_functions_stay_inert_records(tmp_path):
    # StyleGAN-XL's training loop pickles with dill: its discriminator's forward hooks are rebuilt by
    # dill._dill._create_function. Such a global is kept as a named record and never called.
    from gan_zoo.official.safe_pickle import OpaqueRecord

    marker = tmp_path / "ran"

    def _create_function(*args):
        marker.write_text("ran")

    path = tmp_path / "hooks.pkl"
    with stand_in_modules({"dill": None, "dill._dill": {"_create_function": _create_function}}), path.open("wb") as file:
        pickle.dump({"hook": Crafted(_create_function, b"code", {"globals": 1})}, file)
    hook = load_pickle(path)["hook"]
    assert isinstance(hook, OpaqueRecord) and hook.name.startswith("dill._dill._create_function")
    assert not marker.exists()
