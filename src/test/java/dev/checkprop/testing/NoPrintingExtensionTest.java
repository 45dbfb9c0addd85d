package dev.checkprop.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.AssertionFailedError;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guard fails a test that prints, through JUnit's own callbacks with a stand-in context and
 * stand-in streams; and it is registered for this suite.
 */
class NoPrintingExtensionTest {

    private PrintStream out;
    private PrintStream err;
    private final NoPrintingExtension guard = new NoPrintingExtension(new PrintRecorder(
            new PrintRecorder.Slot("System.out", () -> out, s -> out = s),
            new PrintRecorder.Slot("System.err", () -> err, s -> err = s)));

    NoPrintingExtensionTest() {
        out = new PrintStream(new ByteArrayOutputStream(), true, Charset.defaultCharset());
        err = new PrintStream(new ByteArrayOutputStream(), true, Charset.defaultCharset());
    }

    /** A sample test class whose methods the stand-in contexts name. */
    static final class Sample {
        void printsAFigure() {
        }
    }

    private static ExtensionContext context(String uniqueId, Class<?> cls, Method method, String display) {
        return (ExtensionContext) Proxy.newProxyInstance(ExtensionContext.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getUniqueId" -> uniqueId;
                    case "getTestClass" -> Optional.of(cls);
                    case "getTestMethod" -> Optional.ofNullable(method);
                    case "getDisplayName" -> display;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> uniqueId;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void aTestThatPrintsFailsNamingItAndTheFirstLine() throws Exception {
        Method m = Sample.class.getDeclaredMethod("printsAFigure");
        ExtensionContext cls = context("[class:Sample]", Sample.class, null, "Sample");
        ExtensionContext test = context("[class:Sample]/[method:printsAFigure()]", Sample.class, m, "printsAFigure()");
        guard.beforeAll(cls);
        guard.beforeEach(test);
        out.printf("worst %.3f ulp%n", 0.5);
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> guard.afterEach(test));
        assertEquals(Sample.class.getName() + ".printsAFigure() printed " + ("worst 0.500 ulp" + System.lineSeparator()).length()
                + " bytes, first to System.out: tests must not print (put figures in assertion messages, capture a"
                + " child JVM's output); first line: \"worst 0.500 ulp\"", e.getMessage());
        // The class printed nothing outside its tests.
        assertDoesNotThrow(() -> guard.afterAll(cls));
    }

    @Test
    void aQuietTestPassesAndAClassThatPrintsOutsideItsTestsFails() throws Exception {
        Method m = Sample.class.getDeclaredMethod("printsAFigure");
        ExtensionContext cls = context("[class:Sample]", Sample.class, null, "Sample");
        ExtensionContext test = context("[class:Sample]/[test-template:printsAFigure()]/[invocation:3]", Sample.class, m,
                "[3] 100");
        guard.beforeAll(cls);
        err.println("in @BeforeAll");
        guard.beforeEach(test);
        assertDoesNotThrow(() -> guard.afterEach(test));
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> guard.afterAll(cls));
        assertTrue(e.getMessage().startsWith(Sample.class.getName() + " (outside its tests) printed "), e.getMessage());
        assertTrue(e.getMessage().contains("first to System.err"), e.getMessage());
        assertTrue(e.getMessage().endsWith("first line: \"in @BeforeAll\""), e.getMessage());
    }

    @Test
    void invocationsAreNamedByMethodAndDisplayName() throws Exception {
        Method m = Sample.class.getDeclaredMethod("printsAFigure");
        assertEquals(Sample.class.getName() + ".printsAFigure() [[3] 100]",
                NoPrintingExtension.name(context("u", Sample.class, m, "[3] 100")));
        assertEquals(Sample.class.getName() + ".printsAFigure()",
                NoPrintingExtension.name(context("u", Sample.class, m, "printsAFigure()")));
        assertEquals(Sample.class.getName(), NoPrintingExtension.name(context("u", Sample.class, null, "Sample")));
    }

    /** Autodetection is on and finds the guard, so every test of the suite runs under it, this one too. */
    @Test
    void theGuardIsRegisteredForEveryTest() throws IOException {
        assertTrue(read("/junit-platform.properties").lines()
                .anyMatch(l -> l.equals("junit.jupiter.extensions.autodetection.enabled=true")));
        assertTrue(read("/META-INF/services/org.junit.jupiter.api.extension.Extension").lines()
                .anyMatch(l -> l.equals(NoPrintingExtension.class.getName())));
        assertTrue(NoPrintingExtension.systemRecording(), "System.out and System.err are recorded in this test");
    }

    private static String read(String resource) throws IOException {
        try (InputStream in = NoPrintingExtensionTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, resource);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
