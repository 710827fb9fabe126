//! AOF rewrite (interim version on main): module commands only.

use crate::stream::{Stream, StreamId};

/// The commands that rebuild `s` under `key`.
pub fn rewrite_commands(key: &[u8], s: &Stream) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for e in s.store.range(StreamId::MIN, StreamId::MAX) {
        let mut argv = vec![b"idmp.xadd".to_vec(), key.to_vec(), e.id().to_bytes()];
        for (f, v) in e.fields() {
            argv.push(f.to_vec());
            argv.push(v.to_vec());
        }
        out.push(argv);
    }
    out
}
