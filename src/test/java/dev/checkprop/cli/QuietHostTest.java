package dev.checkprop.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * checkprop in a host process prints nothing of its own on the normal path: no JOL warnings, no
 * {@code sun.misc.Unsafe} warnings (JDK 24 and later), no kernel log line; the only line on standard
 * error is the JVM's own notice that an incubator module is in use, which no program can suppress.
 * Falling back to the scalar kernels logs one WARNING line with the flag that enables the fast path.
 * Checked in child JVMs on the test JDK and on every other JDK 17 or later installed beside it (under
 * {@code /usr/lib/jvm}, where Debian and Temurin put them), and {@code --version} is the POM's.
 */
class QuietHostTest {

    private static final String INCUBATOR = "WARNING: Using incubator modules: jdk.incubator.vector";

    @TempDir
    static Path dir;

    static Path model;
    static Path data;

    record Result(int code, String out, String err) {
    }

    @BeforeAll
    static void files() {
        model = dir.resolve("m.safetensors");
        data = dir.resolve("d.safetensors");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"init", "--input", "8", "--layers", "6", "--width", "16", "--output", "3",
                "--out", model.toString(), "--data", data.toString(), "--batch", "32", "--loss", "softmax-ce"},
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, out + " " + err);
    }

    @Test
    void versionIsThePomVersion() throws IOException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, Main.run(new String[] {"--version"}, new PrintWriter(out, true), new PrintWriter(err, true)));
        assertEquals("checkprop " + pomVersion(), out.toString().strip());
        assertEquals("", err.toString());
    }

    /** The project's own version in pom.xml (surefire runs in the project folder). */
    private static String pomVersion() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>checkprop</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "no project version in pom.xml");
        return m.group(1).strip();
    }

    @Test
    void theNormalPathPrintsNothingOfItsOwn() throws Exception {
        List<String> failures = new ArrayList<>();
        for (Path java : javas()) {
            for (List<String> args : List.of(
                    List.of("demo", "--layers", "12", "--width", "8", "--batch", "8"),
                    List.of("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "softmax-ce",
                            "--plan", "auto", "--out", dir.resolve("g-" + Math.abs(java.hashCode()) + ".safetensors").toString()))) {
                Result r = run(java, true, args);
                String what = java + " " + String.join(" ", args);
                if (r.code() != 0) {
                    failures.add(what + ": exit " + r.code() + ": " + r.err());
                    continue;
                }
                if (!r.err().lines().toList().equals(List.of(INCUBATOR))) {
                    failures.add(what + ": standard error was:\n" + r.err());
                }
                List<String> foreign = r.out().lines()
                        .filter(l -> l.startsWith("#") || l.contains("WARNING") || l.contains("INFO")).toList();
                if (!foreign.isEmpty()) {
                    failures.add(what + ": standard output has " + foreign);
                }
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void theScalarFallbackLogsOneWarningWithTheFlag() throws Exception {
        List<String> failures = new ArrayList<>();
        for (Path java : javas()) {
            Result r = run(java, false, List.of("demo", "--layers", "12", "--width", "8", "--batch", "8"));
            List<String> err = r.err().lines().toList();
            if (r.code() != 0 || err.size() != 1 || !err.get(0).startsWith("WARNING: checkprop: ")
                    || !err.get(0).contains("--add-modules jdk.incubator.vector")) {
                failures.add(java + ": exit " + r.code() + ", standard error was:\n" + r.err());
            }
            if (!r.out().contains("kernel: scalar")) {
                failures.add(java + ": not the scalar kernels:\n" + r.out());
            }
        }
        assertEquals(List.of(), failures);
    }

    /** The test JDK's java, then each other JDK 17 or later under /usr/lib/jvm. */
    static List<Path> javas() throws IOException {
        Path self = Path.of(System.getProperty("java.home")).toRealPath();
        Set<Path> homes = new LinkedHashSet<>();
        homes.add(self);
        Path jvms = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvms)) {
            try (Stream<Path> s = Files.list(jvms)) {
                for (Path p : s.sorted().toList()) {
                    Path home = p.toRealPath();
                    if (Files.isExecutable(home.resolve("bin/java")) && feature(home) >= 17) {
                        homes.add(home);
                    }
                }
            }
        }
        return homes.stream().map(h -> h.resolve("bin/java")).toList();
    }

    /** The feature version of a JDK from its {@code release} file, or 0. */
    private static int feature(Path home) {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return 0;
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(release, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            return 0;
        }
        String v = p.getProperty("JAVA_VERSION", "").replace("\"", "");
        Matcher m = Pattern.compile("^(\\d+)").matcher(v);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    private static Result run(Path java, boolean vector, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xmx256m"));
        if (vector) {
            cmd.addAll(List.of("--add-modules", "jdk.incubator.vector"));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("err.txt").toFile()).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "timed out: " + cmd);
        return new Result(p.exitValue(), out, Files.readString(dir.resolve("err.txt")));
    }
}
