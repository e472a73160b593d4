// Reads a solc standard-JSON input on stdin, compiles it with the pinned solcjs, prints the output.
const solc = require('solc');
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => { process.stdout.write(solc.compile(input)); });
