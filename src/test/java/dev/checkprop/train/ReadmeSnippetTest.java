package dev.checkprop.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README's Java block, exactly as printed: extracted from README.md, compiled with the system compiler
 * against the test class path, and run in a child JVM (its output captured, never printed here).
 */
class ReadmeSnippetTest {

    @TempDir
    Path dir;

    /** The first fenced {@code java} block of README.md. */
    static String snippet() throws IOException {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("```java\\R(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(), "README.md has no ```java block");
        return m.group(1);
    }

    @Test
    void readmeJavaBlockCompilesAndRuns() throws Exception {
        String code = snippet();
        Matcher cls = Pattern.compile("public\\s+(?:final\\s+)?class\\s+(\\w+)").matcher(code);
        assertTrue(cls.find(), "README's Java block must be a whole file with a public class:\n" + code);
        String name = cls.group(1);
        Path src = dir.resolve(name + ".java");
        Files.writeString(src, code, StandardCharsets.UTF_8);
        Path classes = Files.createDirectory(dir.resolve("classes"));

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "this JDK has no system Java compiler");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter compilerOut = new StringWriter();
        boolean ok;
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            List<String> options = List.of("-classpath", System.getProperty("java.class.path"), "-d", classes.toString(),
                    "--add-modules", "jdk.incubator.vector", "-Xlint:-options");
            ok = javac.getTask(compilerOut, files, diagnostics, options, null, files.getJavaFileObjects(src.toFile())).call();
        }
        assertTrue(ok, "README's Java block does not compile: " + diagnostics.getDiagnostics() + compilerOut);

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "--add-modules", "jdk.incubator.vector",
                "-cp", classes + java.io.File.pathSeparator + System.getProperty("java.class.path"), name));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "README's program did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        assertTrue(text.contains("Plan[budget:"), text);
        assertTrue(text.contains("epoch   1  train loss"), text);
        assertTrue(text.contains("best: epoch"), text);
        assertTrue(text.contains("Evaluation[loss="), text);
        assertTrue(Files.exists(dir.resolve("run.ckpt")) && Files.exists(dir.resolve("spirals.safetensors")), text);
        // It learns: the saved model classifies the spirals.
        Matcher acc = Pattern.compile("Evaluation\\[loss=[^,]+, accuracy=([0-9.]+)").matcher(text);
        assertTrue(acc.find(), text);
        assertTrue(Double.parseDouble(acc.group(1)) > 0.9, text);
    }
}
