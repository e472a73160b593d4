// Reads a solc standard-JSON input on stdin, compiles it with the pinned solcjs (argv[2]: another solc package,
// e.g. solc-0.8.19 for a source that pins that version), prints the output.
const solc = require(process.argv[2] || 'solc');
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => { process.stdout.write(solc.compile(input)); });
