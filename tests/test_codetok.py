"Integration tests of the code tokenizer: lossless round trips, offline reload, the CLI's last-line JSON"
import json, random, subprocess, sys, sysconfig
from pathlib import Path

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from tagparrot.codeparrot.codetok import EOS, train_code_tokenizer


@pytest.fixture(scope='module')
def stdlib_texts():
    lib = Path(sysconfig.get_paths()['stdlib'])
    return [p.read_text(encoding='utf-8') for p in sorted((lib/'json').glob('*.py')) + sorted((lib/'asyncio').glob('*.py'))]


@pytest.fixture(scope='module')
def tok_dir(stdlib_texts, tmp_path_factory):
    out = tmp_path_factory.mktemp('tok')
    tok = train_code_tokenizer(stdlib_texts, vocab_size=800, out_dir=out)
    assert isinstance(tok, PreTrainedTokenizerFast) and len(tok) == 800 and tok.eos_token == EOS
    return out


def random_unicode(rng, n):
    "Characters from every plane that UTF-8 can encode (surrogates excluded), plus code-like whitespace"
    pool = [chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0x80, 0x800), rng.randrange(0x800, 0xd800),
                            rng.randrange(0xe000, 0x10000), rng.randrange(0x10000, 0x110000), rng.randrange(0, 0x20)]))
            for _ in range(n)]
    return ''.join(pool + [' ' * rng.randrange(1, 20), '\t' * rng.randrange(1, 4), '\r\n'])


def test_round_trips_unicode_and_indentation(tok_dir, stdlib_texts):
    tok = AutoTokenizer.from_pretrained(str(tok_dir))   # offline reload through the Auto class
    rng = random.Random(0)
    cases = [random_unicode(rng, rng.randrange(0, 60)) for _ in range(300)]
    cases += ['if x:\n\tif y:\n\t\t  return  z \n', ' ' * 33 + '\n\n\n  \t', '\u200b\ufeff\u0301é😀𝔘', ''] + stdlib_texts[:5]
    for s in cases:
        ids = tok(s)['input_ids']
        assert tok.decode(ids) == s, repr(s)
    assert tok.eos_token_id == 0 and tok.decode([0]) == EOS


def test_code_vocabulary(tok_dir):
    vocab = AutoTokenizer.from_pretrained(str(tok_dir)).get_vocab()
    assert {'Ġreturn', 'Ġself', 'Ġdef'} <= set(vocab)
    assert any(set(t) == {'Ġ'} and len(t) >= 7 for t in vocab)  # an indentation token


def test_cli_train_and_stats(tmp_path):
    exe = str(Path(sys.executable).parent/'tagparrot')
    lib = Path(sysconfig.get_paths()['stdlib'])
    corpus = tmp_path/'corpus'
    build = [exe, 'corpus', 'build', '--out', str(corpus), '--no-default-sources', '--workers', '1',
             '--valid-fraction', '0.2'] + [a for d in ('json', 'asyncio', 'email', 'xml', 'logging') for a in ('--source', str(lib/d))]
    subprocess.run(build, capture_output=True, text=True, check=True)
    from tagparrot.core import shared_dir
    env = {**__import__('os').environ, 'TAGPARROT_ROOT': str(tmp_path), 'TAGPARROT_SHARED': str(shared_dir())}   # the English baseline is cached there
    res = subprocess.run([exe, 'tokenizer', 'train', '--corpus', str(corpus), '--out', str(tmp_path/'tok'),
                          '--vocab-size', '1000'], capture_output=True, text=True, check=True, env=env)
    trained = json.loads(res.stdout.strip().splitlines()[-1])
    assert trained['vocab_size'] == 1000 and trained['mb_per_s'] > 0
    res = subprocess.run([exe, 'tokenizer', 'stats', '--tokenizer', str(tmp_path/'tok'), '--corpus', str(corpus)],
                         capture_output=True, text=True, check=True, env=env)
    stats = json.loads(res.stdout.strip().splitlines()[-1])
    assert {'chars_per_token', 'baseline_chars_per_token', 'fertility', 'continued_words', 'keywords_missing'} <= set(stats)
    assert stats['chars_per_token'] > stats['baseline_chars_per_token'] and stats['unk_rate'] == 0
    assert (tmp_path/'data'/'tokenizers'/'english-bpe-1000'/'tokenizer.json').exists()
