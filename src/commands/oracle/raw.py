import socket, sys
# usage: raw.py port [--resp3] < lines ; each line split on spaces; prints raw reply repr per command
port=int(sys.argv[1]); resp3='--resp3' in sys.argv
s=socket.create_connection(('127.0.0.1',port)); f=s.makefile('rb')
def enc(args):
    out=b'*%d\r\n'%len(args)
    for a in args: out+=b'$%d\r\n%s\r\n'%(len(a),a)
    return out
def read():
    line=f.readline(); t=line[:1]; rest=line[1:-2]
    if t in b'+-:_#,(': return line
    if t in b'$=!':
        n=int(rest)
        if n<0: return line
        return line+f.read(n+2)
    if t in b'*%~>':
        n=int(rest)
        if n<0: return line
        m = 2 if t==b'%' else 1
        out=line
        for _ in range(n*m): out+=read()
        return out
    raise Exception(line)
if resp3:
    s.sendall(enc([b'HELLO',b'3'])); read()
for l in sys.stdin:
    l=l.rstrip('\n')
    if not l: continue
    args=[a.encode() for a in l.split(' ')]
    s.sendall(enc(args)); r=read()
    print(l); print('  '+repr(r.decode()))
