package dev.checkprop.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the command line in a child JVM with a chosen heap, for the cases that are about memory or kills. */
final class ChildJvm {

    private ChildJvm() {
    }

    record Result(int code, String out, String err) {
    }

    static List<String> command(String xmx, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + xmx, "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), "dev.checkprop.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static Result run(String xmx, String... args) throws IOException, InterruptedException {
        return start(command(xmx, args), false, args);
    }

    /**
     * Runs {@code main} of a test class (on the test class path) in a child JVM whose working
     * directory is {@code workDir}, so that a relative path the child makes up (a fuzzed argument
     * taken as an output file) lands there and not in the repository.
     */
    static Result runMain(Path workDir, String xmx, Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + xmx, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                main.getName()));
        cmd.addAll(List.of(args));
        // One stream: a long failure report on stderr must not block the child while stdout is read.
        return start(cmd, true, workDir, args);
    }

    private static Result start(List<String> cmd, boolean merge, String... args) throws IOException, InterruptedException {
        return start(cmd, merge, null, args);
    }

    private static Result start(List<String> cmd, boolean merge, Path workDir, String... args)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(merge);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "child JVM timed out: " + Arrays.toString(args));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** The error lines, without the JVM's warning about incubator modules and the kernel choice's log line. */
    static List<String> errorLines(Result r) {
        return r.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")
                && !l.equals("INFO: checkprop: Vector API kernels")).toList();
    }

    /** Every file of {@code dir} with its bytes. */
    static Map<Path, byte[]> snapshot(Path dir) throws IOException {
        Map<Path, byte[]> files = new HashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                files.put(p.getFileName(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    static void assertUnchanged(Map<Path, byte[]> before, Path dir) throws IOException {
        Map<Path, byte[]> after = snapshot(dir);
        assertEquals(before.keySet(), after.keySet(), "files appeared or vanished in " + dir);
        for (Path p : before.keySet()) {
            assertArrayEquals(before.get(p), after.get(p), p + " changed");
        }
    }

    /** Runs a command that must fail with exit 2 and exactly the line {@code expected}, changing no file in {@code dir}. */
    static void refused(Path dir, String xmx, String expected, String... args) throws IOException, InterruptedException {
        Map<Path, byte[]> before = snapshot(dir);
        Result r = run(xmx, args);
        assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
        assertEquals(List.of("checkprop: " + expected), errorLines(r), r.err());
        assertUnchanged(before, dir);
    }
}
