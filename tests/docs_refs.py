#!/usr/bin/env python3
"""Fails on a dead reference in the docs: a link to a file that is not there, a
repository path in backticks that does not exist, or a code name in backticks
(`store::commit`, `spawn_node()`) that no source file defines any more.

  tests/docs_refs.py [ROOT]      # check the tree (default: the repository)
  tests/docs_refs.py --self-test # plant dead references in a scratch tree: must fail

Checked: README.md, every */README.md, docs/**/*.md (not docs/bench/, which holds
generated tables). Historical prose is fine; a backticked name is a claim that the
code has it.
"""
import os
import re
import sys
import tempfile

SOURCE_EXT = ('.hpp', '.cpp', '.h', '.js', '.mjs', '.cmake', '.txt', '.py', '.sh', '.html')
SKIP_DIRS = {'build', 'node_modules', '.git', 'data', 'corpus'}
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
CODE = re.compile(r'`([^`\n]+)`')
PATH = re.compile(r'^[\w.-]+(/[\w.*-]+)+/?$')
# The client contract is kept beside the repository (../shared), not in it.
OUTSIDE = {'PROTOCOL.md'}
# A file named without its folder (`relay_actor.cpp` in actors/README.md).
FILE = re.compile(r'^[\w-]+(\.[\w-]+)*\.(cpp|hpp|h|mjs|js|py|md|sh|json|html|css|toml|yml)$')
NAME = re.compile(r'^(?:[A-Za-z_]\w*::)+([A-Za-z_]\w*)(?:\(\))?$|^([A-Za-z_]\w*)\(\)$')


def doc_files(root):
    out = [os.path.join(root, 'README.md')]
    for entry in sorted(os.listdir(root)):
        readme = os.path.join(root, entry, 'README.md')
        if entry not in SKIP_DIRS and os.path.isfile(readme):
            out.append(readme)
    for base, dirs, files in os.walk(os.path.join(root, 'docs')):
        dirs[:] = [d for d in dirs if d != 'bench']
        out += [os.path.join(base, f) for f in sorted(files) if f.endswith('.md')]
    return [f for f in out if os.path.isfile(f)]


def source_text(root):
    chunks = []
    for base, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith('build')]
        for f in files:
            if f.endswith(SOURCE_EXT) or f == 'CMakeLists.txt':
                try:
                    with open(os.path.join(base, f), encoding='utf-8', errors='replace') as fh:
                        chunks.append(fh.read())
                except OSError:
                    pass
    return '\n'.join(chunks)


def all_files(root):
    out = []
    for base, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS - {'corpus'} and not d.startswith('build')]
        out += [os.path.relpath(os.path.join(base, n), root) for n in names]
    return out


def check(root):
    sources = source_text(root)
    files = all_files(root)
    problems = []
    for doc in doc_files(root):
        rel = os.path.relpath(doc, root)
        with open(doc, encoding='utf-8') as fh:
            text = fh.read()
        # Fenced code blocks are examples (commands, JSON): not references.
        prose = re.sub(r'```.*?```', '', text, flags=re.S)
        for target in LINK.findall(prose):
            if re.match(r'^[a-z]+:', target) or target.startswith('#'):
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(rel), target.split('#')[0]))
            if not any(f == path or f.startswith(path + '/') for f in files):
                problems.append(f'{rel}: link to a missing file: {target}')
        for code in CODE.findall(prose):
            code = code.strip()
            # `./data`, `DIR/n1`, `build/...`: run-time or generated, not repository paths.
            if PATH.match(code) and '*' not in code and not code.startswith(('http', 'ws', './', 'build/')) \
                    and not code.split('/')[0].isupper():
                want = code.rstrip('/')
                here = os.path.normpath(os.path.join(os.path.dirname(rel), want))
                # An include path (`chat/actors/outbox.hpp`) names a file below some include/.
                found = any(f == want or f.startswith(want + '/') or f == here
                            or f.startswith(here + '/') or f.endswith('/' + want) for f in files)
                if not found:
                    problems.append(f'{rel}: no such path: `{code}`')
                continue
            if FILE.match(code):
                if code not in OUTSIDE and not any(os.path.basename(f) == code for f in files):
                    problems.append(f'{rel}: no such file: `{code}`')
                continue
            m = NAME.match(code)
            if m:
                name = m.group(1) or m.group(2)
                if not re.search(r'\b' + re.escape(name) + r'\b', sources):
                    problems.append(f'{rel}: no source defines `{code}`')
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, 'docs'))
        os.makedirs(os.path.join(root, 'src'))
        with open(os.path.join(root, 'src', 'store.cpp'), 'w') as fh:
            fh.write('void commit() {}\n')
        with open(os.path.join(root, 'README.md'), 'w') as fh:
            fh.write('See [the docs](docs/a.md) and `src/store.cpp`, `store::commit`.\n')
        with open(os.path.join(root, 'docs', 'a.md'), 'w') as fh:
            fh.write('Fine: `commit()`, `store.cpp`.\n')
        if check(root):
            return f'a clean tree was reported: {check(root)}'
        planted = {
            'link': '[gone](docs/gone.md)',
            'path': '`src/gone.cpp`',
            'name': '`store::append_group`',
            'call': '`append_group()`',
            'file': '`gone.cpp`',
        }
        for what, ref in planted.items():
            with open(os.path.join(root, 'docs', 'a.md'), 'w') as fh:
                fh.write(f'Fine: `commit()`, `store.cpp`. Dead: {ref}\n')
            if not check(root):
                return f'a planted dead {what} ({ref}) was not found'
    return None


def main():
    if sys.argv[1:] == ['--self-test']:
        why = self_test()
        print('docs_refs self-test: ' + (why or 'every planted dead reference was found'))
        return 1 if why else 0
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    problems = check(os.path.abspath(root))
    for p in problems:
        print(p)
    print(f'docs_refs: {len(doc_files(os.path.abspath(root)))} documents, {len(problems)} dead references')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
