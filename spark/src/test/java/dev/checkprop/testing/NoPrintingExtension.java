package dev.checkprop.testing;
// Copied from the root module (src/test/java/dev/checkprop/testing): the same no-printing discipline for the Spark tests.

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.AssertionFailedError;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fails every test that prints to System.out or System.err, as EJML's build does: a test's figures
 * belong in its assertion messages, and a child JVM's output in a captured string. Registered for
 * every test by JUnit's extension autodetection ({@code src/test/resources/junit-platform.properties}
 * and {@code META-INF/services/org.junit.jupiter.api.extension.Extension}).
 *
 * <p>Each test is recorded from before its {@code @BeforeEach} methods to after its {@code @AfterEach}
 * methods, and each test class around all of it (static initialisers, {@code @BeforeAll},
 * {@code @AfterAll}); the failure names the test and quotes the first line printed. What is printed
 * still reaches the console. Records of {@code java.util.logging} on System.err are allowed; see
 * {@link PrintRecorder} for that and for how output is told apart.
 */
public final class NoPrintingExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback {

    private static final PrintRecorder SYSTEM = new PrintRecorder(PrintRecorder.Slot.systemOut(),
            PrintRecorder.Slot.systemErr());

    private final PrintRecorder recorder;
    private final Map<String, PrintRecorder.Capture> open = new ConcurrentHashMap<>();

    /** Records System.out and System.err: the extension as autodetected. */
    public NoPrintingExtension() {
        this(SYSTEM);
    }

    NoPrintingExtension(PrintRecorder recorder) {
        this.recorder = recorder;
    }

    /** Whether System.out and System.err are being recorded now: true inside any test of this suite. */
    static boolean systemRecording() {
        return SYSTEM.installed();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        open.put(context.getUniqueId(), recorder.begin(name(context) + " (outside its tests)"));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        open.put(context.getUniqueId(), recorder.begin(name(context)));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close(context);
    }

    private void close(ExtensionContext context) {
        final PrintRecorder.Capture c = open.remove(context.getUniqueId());
        final String report = c == null ? null : c.end();
        if (report != null) {
            throw new AssertionFailedError(report);
        }
    }

    /**
     * Answers e.g. {@code dev.checkprop.train.TrainingTest.teacher()}, with the display name of a
     * parameterized or repeated invocation after it ({@code ... [3] 100}); a class by its name.
     */
    static String name(ExtensionContext context) {
        final String cls = context.getTestClass().map(Class::getName).orElse(context.getDisplayName());
        final Optional<Method> method = context.getTestMethod();
        if (method.isEmpty()) {
            return cls;
        }
        final String m = method.get().getName() + "()";
        final String display = context.getDisplayName();
        return cls + "." + m + (display.equals(m) ? "" : " [" + display + "]");
    }
}
