import net from 'node:net';

/** LOGIN and LIST over a bare socket: a client that never ENABLEs UTF8=ACCEPT. Resolves to what it saw. */
export async function listWithoutUtf8(port: number, user: string, password: string): Promise<{ closed: boolean; lines: string[] }> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    let step = 0;
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      step = 3;
      sock.destroy();
      resolve({ closed, lines: buf.split('\r\n').filter((l) => l.startsWith('* LIST')) });
    };
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no LIST answer within 10 s: ${buf.slice(-200)}`));
    }, 10_000);
    sock.on('error', () => undefined);
    sock.on('close', () => step < 3 && finish(true));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (step === 0 && buf.includes('* OK')) {
        step = 1;
        sock.write(`a LOGIN ${user} "${password}"\r\n`);
      } else if (step === 1 && /\r\na OK/.test(buf)) {
        step = 2;
        sock.write('b LIST "" "*"\r\n');
      } else if (step === 2 && /\r\nb (OK|NO|BAD)[^\r]*\r\n/.test(buf)) finish(false);
    });
  });
}
