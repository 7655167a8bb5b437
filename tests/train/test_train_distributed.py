"""Two processes on CPU (gloo) through torchrun: DDP must reproduce the single-process run."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from train.pretrain import pretrain

from train_helpers import REPO, read_log, tiny_cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# `accelerate launch --cpu --num_processes 2` starts ONE process (accelerate's simple launcher); on CPUs the
# multi-process launch is --multi_gpu, which runs torchrun, and our Accelerator(cpu=True) then uses gloo.
LAUNCHERS = {
    "torchrun": lambda port: [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                              "--master_port", str(port)],
    "accelerate": lambda port: [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
                                "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                                "--main_process_port", str(port)],
}


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_ddp_two_processes_gloo_matches_single_process(tokens_dir, tmp_path, launcher):
    steps = 6
    single = tiny_cfg(tokens_dir, tmp_path / "single", "causal-lm", steps=steps)
    pretrain(single, log=lambda *_: None)

    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = LAUNCHERS[launcher](_free_port()) + ["-m", "train.cli", "pretrain", "--tokens", str(tokens_dir),
           "--output", str(tmp_path / "ddp"), "--objective", "causal-lm", "--preset", "llama-tiny",
           "--steps", str(steps), "--log-every", "1", "--batch-size", "4",  # 2 ranks x 4 = the same global 8
           "--seq-len", "64", "--lr", "3e-3", "--set", "optim.warmup_steps=3", "--set", "train.cpu_threads=1",
           "--set", "train.save_every=3"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 process(es)" in proc.stdout

    a = [r["loss"] for r in read_log(tmp_path / "single")]
    b = [r["loss"] for r in read_log(tmp_path / "ddp")]
    # Gradients averaged over 2 x 4 rows equal the gradient of the 8-row batch (up to float summation order).
    np.testing.assert_allclose(a, b, rtol=1e-4)
    ckpt = tmp_path / "ddp" / "checkpoints" / f"step_{steps:08d}"
    assert (ckpt / "random_states_0.pkl").exists() and (ckpt / "random_states_1.pkl").exists()
    assert (tmp_path / "ddp" / "model" / "model.safetensors").exists()
