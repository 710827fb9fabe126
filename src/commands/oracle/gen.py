import json,ast
def load(p):
    L=open(p).read().split('\n'); out=[]
    i=0
    while i+1<len(L):
        if not L[i]: i+=1; continue
        out.append((L[i], ast.literal_eval(L[i+1].strip()))); i+=2
    return out
a=load('out2.txt'); b=load('out3.txt')
assert len(a)==len(b)
print("//! Replies of a native Redis 8.6.3 stream to a command sequence, recorded")
print("//! with a raw RESP client (RESP2 and RESP3 runs on a flushed server).")
print("//! Generated; see the test in `oracle_tests.rs`.")
print()
print("/// `(command line, RESP2 reply, RESP3 reply)`.")
print("pub const CASES: &[(&str, &str, &str)] = &[")
for (c,r2),(c3,r3) in zip(a,b):
    assert c==c3
    print("    (%s, %s, %s)," % (json.dumps(c), json.dumps(r2), json.dumps(r3)))
print("];")
