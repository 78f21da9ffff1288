import subprocess
import sys

import pytest

_FAULTS_SCRIPT = """
import resource, sys, torch
from costlab.distill.heap import reuse_freed_memory

def faults_of_a_fresh_64mb_tensor():
    x = torch.empty(16 << 20).fill_(1.0)  # 64 MB, written: every page touched
    del x
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = torch.empty(16 << 20).fill_(1.0)
    f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    del x
    return f1 - f0

before = faults_of_a_fresh_64mb_tensor()
applied = reuse_freed_memory()
faults_of_a_fresh_64mb_tensor()  # the heap grows once to hold it
print(before, applied, faults_of_a_fresh_64mb_tensor())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt: Linux only")
def test_reuse_freed_memory_stops_page_faults_on_reallocated_tensors():
    """The default glibc returns a freed 64 MB tensor to the kernel, so the next one page-faults every page again
    (~16k 4 KiB pages); after reuse_freed_memory() the freed memory is reused with (almost) no faults."""
    out = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT], capture_output=True, text=True, check=True)
    before, applied, after = out.stdout.splitlines()[-1].split()
    assert applied == "True"
    assert int(before) > 8000  # glibc default: the re-allocation faults again (proves the probe can see it)
    assert int(after) < 500
