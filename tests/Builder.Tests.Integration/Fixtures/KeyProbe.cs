using System.Globalization;
using System.Text.RegularExpressions;

namespace Builder.Tests.Integration.Fixtures;

/// <summary>What <see cref="KeyProbe"/> reported in a build log.</summary>
/// <param name="Findings">Each thing found and where (empty: nothing betrays the key).</param>
/// <param name="ControlIn">Where the probe found its control word: text files, binary files, environments.</param>
public sealed record KeyProbeReport(long Files, long Bytes, int Environments, IReadOnlyList<string> Findings, (int Text, int Binary, int Environments) ControlIn);

/// <summary>
/// A project's <c>before-build</c> (cibuildwheel's setting, which Builder runs in the build container before each wheel,
/// as build code) that searches the container's whole filesystem (every regular file but <c>/proc</c>, <c>/sys</c> and
/// <c>/dev</c>, binaries too) and the environment of every process it can see for what would betray Builder's
/// provenance signing key: a PEM private key in a text file or an environment (<c>PRIVATE KEY</c>, as <c>grep -I</c> would
/// look), a Data Protection key (<c>&lt;key id=</c>, the key ring that decrypts the key), and the given
/// <paramref name="secrets"/> (the provenance rows: the signing certificate, the encrypted private key). The probe does
/// not contain what it looks for (each is spelled apart or hex-encoded), and it proves it searched: it counts files,
/// bytes and environments, and finds its control word where the project put it (a text file, a binary file and the
/// environment).
/// </summary>
/// <param name="secrets">Byte strings that must appear nowhere in the container, each with a name for the report.</param>
internal sealed partial class KeyProbe(IReadOnlyDictionary<string, byte[]> secrets)
{
    private const string Prefix = "KEY-PROBE ";

    /// <summary>A word the probe must find (a positive control): in the project's files and in its build environment.</summary>
    public string Control { get; } = "key-probe-control-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    /// <summary><paramref name="project"/> (whose <c>pyproject.toml</c> has no <c>[tool.cibuildwheel]</c> table yet) with the probe as its before-build.</summary>
    public Dictionary<string, string> AddTo(Dictionary<string, string> project)
    {
        var files = new Dictionary<string, string>(project)
        {
            ["key_probe.py"] = Script(),
            // A NUL makes it binary to the probe (as to grep): the control word must be found in binaries too.
            ["key_probe_control.bin"] = "\0\u0001binary\0" + Control + "\0",
        };
        files["pyproject.toml"] = project["pyproject.toml"].TrimEnd() + $$"""


            [tool.cibuildwheel]
            before-build = "python {project}/key_probe.py"
            environment = { KEY_PROBE_CONTROL = "{{Control}}" }
            """ + "\n";
        return files;
    }

    /// <summary>The probe's report in <paramref name="log"/>; fails the test when the probe did not report (did not run).</summary>
    public static KeyProbeReport Read(string log)
    {
        var summary = SummaryPattern().Match(log);
        var control = ControlPattern().Match(log);
        Assert.True(summary.Success && control.Success, "the key probe reported nothing: did before-build run?\n" + log);
        var findings = FindingPattern().Matches(log).Select(m => m.Groups["finding"].Value.Trim()).ToList();
        Assert.Equal(int.Parse(summary.Groups["findings"].Value, CultureInfo.InvariantCulture), findings.Count);
        return new KeyProbeReport(
            long.Parse(summary.Groups["files"].Value, CultureInfo.InvariantCulture),
            long.Parse(summary.Groups["bytes"].Value, CultureInfo.InvariantCulture),
            int.Parse(summary.Groups["environments"].Value, CultureInfo.InvariantCulture),
            findings,
            (int.Parse(control.Groups["text"].Value, CultureInfo.InvariantCulture),
             int.Parse(control.Groups["binary"].Value, CultureInfo.InvariantCulture),
             int.Parse(control.Groups["environments"].Value, CultureInfo.InvariantCulture)));
    }

    private string Script()
    {
        var table = string.Join("\n", secrets.Select(s => $"    ({Python(s.Key)}, binascii.unhexlify(\"{Convert.ToHexStringLower(s.Value)}\")),"));
        return $$"""
            # Builder's test of issue 24: nothing of the provenance signing key is within a build's reach.
            import binascii, os, stat

            # What to look for, spelled so that this file holds none of it.
            WORDS = b"PRIVATE" + b" KEY"
            KEY_RING = b"<key" + b" id="
            SECRETS = [
            {{table}}
            ]
            CONTROL = os.environ["KEY_PROBE_CONTROL"].encode()
            CHUNK, OVERLAP = 8 << 20, 4096
            SKIP = ("/proc", "/sys", "/dev")

            findings = []
            counts = dict(files=0, bytes=0, unreadable=0, environments=0, text=0, binary=0, env_control=0, labels=0)


            def search(data, text):
                # PEM's words count in text (grep -I's rule): crypto libraries carry PEM labels and self-test keys.
                found = [n for n, s in SECRETS if s in data]
                if KEY_RING in data:
                    found.append("a Data Protection key")
                if text and WORDS in data:
                    found.append("PEM's private key words")
                return found


            def scan(path):
                found, text, control, labels, tail = set(), None, False, False, b""
                with open(path, "rb") as f:
                    while True:
                        chunk = f.read(CHUNK)
                        if not chunk:
                            break
                        if text is None:
                            text = b"\0" not in chunk[:8192]
                        counts["bytes"] += len(chunk)
                        data = tail + chunk
                        found.update(search(data, text))
                        control = control or CONTROL in data
                        labels = labels or WORDS in data
                        tail = data[-OVERLAP:]
                return found, text is not False, control, labels


            for root, dirs, names in os.walk("/"):
                dirs[:] = [d for d in dirs if os.path.join(root, d) not in SKIP]
                for name in names:
                    path = os.path.join(root, name)
                    try:
                        if not stat.S_ISREG(os.lstat(path).st_mode):
                            continue
                        found, text, control, labels = scan(path)
                    except OSError:
                        counts["unreadable"] += 1
                        continue
                    counts["files"] += 1
                    counts["text" if text else "binary"] += control
                    counts["labels"] += labels and not text
                    findings.extend("%s in %s" % (what, path) for what in sorted(found))

            environments = [("this process", b"\0".join(k.encode() + b"=" + v.encode() for k, v in os.environ.items()))]
            for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
                try:
                    with open("/proc/%s/environ" % pid, "rb") as f:
                        environments.append(("the environment of process %s" % pid, f.read()))
                except OSError:
                    counts["unreadable"] += 1
            for where, data in environments:
                counts["environments"] += 1
                counts["env_control"] += CONTROL in data
                findings.extend("%s in %s" % (what, where) for what in search(data, True))

            print("KEY-PROBE looked for: %s, a Data Protection key, PEM's private key words (text)" % ", ".join(n for n, _ in SECRETS))
            for finding in findings:
                print("KEY-PROBE FOUND " + finding)
            print("KEY-PROBE control in %(text)d text files, %(binary)d binary files, %(env_control)d environments;"
                  " %(labels)d binaries hold PEM labels; %(unreadable)d unreadable" % counts)
            print("KEY-PROBE searched %d files (%d bytes) and %d environments: %d findings"
                  % (counts["files"], counts["bytes"], counts["environments"], len(findings)))
            """;
    }

    private static string Python(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex(Prefix + @"searched (?<files>\d+) files \((?<bytes>\d+) bytes\) and (?<environments>\d+) environments: (?<findings>\d+) findings")]
    private static partial Regex SummaryPattern();

    [GeneratedRegex(Prefix + @"control in (?<text>\d+) text files, (?<binary>\d+) binary files, (?<environments>\d+) environments")]
    private static partial Regex ControlPattern();

    [GeneratedRegex(Prefix + "FOUND (?<finding>[^\n]*)")]
    private static partial Regex FindingPattern();
}
