package dev.checkprop.architecture;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The library's packages depend one way. Read from the compiled classes by {@code jdeps} (the JDK's
 * own dependency analyser, so imports, fully qualified names and inlined constants all count), not
 * from the sources.
 */
class PackageDependencyTest {

    private static final String ROOT = "dev.checkprop.";

    /** Package (without the root) to the library packages it uses, from {@code jdeps -verbose:package}. */
    static Map<String, Set<String>> dependencies() {
        Path classes = Path.of("target", "classes");
        assertTrue(Files.isDirectory(classes.resolve("dev/checkprop")), "compiled classes expected at " + classes.toAbsolutePath());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("this JDK has no jdeps"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "--add-modules",
                "jdk.incubator.vector", "-e", "dev\\.checkprop\\..*", classes.toString());
        assertEquals(0, code, err.toString());
        Map<String, Set<String>> deps = new TreeMap<>();
        for (String line : out.toString().split("\\R")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[1].equals("->") && f[0].startsWith(ROOT) && f[2].startsWith(ROOT)) {
                String from = f[0].substring(ROOT.length());
                String to = f[2].substring(ROOT.length());
                deps.computeIfAbsent(from, k -> new TreeSet<>());
                if (!from.equals(to)) {
                    deps.get(from).add(to);
                }
            }
        }
        assertTrue(deps.size() >= 10, "jdeps found too few packages: " + deps.keySet());
        return deps;
    }

    @Test
    void noPackageCycle() {
        Map<String, Set<String>> deps = dependencies();
        List<List<String>> cycles = stronglyConnected(deps);
        assertTrue(cycles.isEmpty(), "package cycles: " + cycles + " in " + deps);
    }

    /** The bottom layers: kernels know nothing of networks, plans nothing of layers or floats, layers nothing of executors. */
    @Test
    void lowerLayersStayLow() {
        Map<String, Set<String>> deps = dependencies();
        assertEquals(Set.of(), deps.getOrDefault("kernel", Set.of()), "kernel");
        assertEquals(Set.of(), deps.getOrDefault("plan", Set.of()), "plan");
        assertEquals(Set.of("kernel"), deps.get("nn"), "nn");
        assertTrue(Set.of("kernel", "nn", "plan", "tier").containsAll(deps.get("exec")), "exec uses " + deps.get("exec"));
        // The tiers move floats and files; they know the tier names and nothing of layers or executors.
        assertTrue(Set.of("plan").containsAll(deps.getOrDefault("tier", Set.of())), "tier uses " + deps.get("tier"));
    }

    /** A test that could not fail would prove nothing: the cycle finder finds a planted cycle. */
    @Test
    void theCycleFinderFindsCycles() {
        Map<String, Set<String>> g = new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a")));
        assertEquals(List.of(List.of("a", "b", "c")), stronglyConnected(g));
    }

    /** The strongly connected components with more than one package (Tarjan's algorithm, iteratively), each sorted. */
    static List<List<String>> stronglyConnected(Map<String, Set<String>> g) {
        Map<String, Integer> index = new TreeMap<>();
        Map<String, Integer> low = new TreeMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> result = new ArrayList<>();
        int[] counter = {0};
        for (String start : g.keySet()) {
            if (index.containsKey(start)) {
                continue;
            }
            Deque<Object[]> work = new ArrayDeque<>();
            work.push(new Object[]{start, new ArrayList<>(g.getOrDefault(start, Set.of())).iterator()});
            index.put(start, counter[0]);
            low.put(start, counter[0]++);
            stack.push(start);
            onStack.add(start);
            while (!work.isEmpty()) {
                Object[] top = work.peek();
                String v = (String) top[0];
                @SuppressWarnings("unchecked")
                java.util.Iterator<String> it = (java.util.Iterator<String>) top[1];
                if (it.hasNext()) {
                    String w = it.next();
                    if (!index.containsKey(w)) {
                        index.put(w, counter[0]);
                        low.put(w, counter[0]++);
                        stack.push(w);
                        onStack.add(w);
                        work.push(new Object[]{w, new ArrayList<>(g.getOrDefault(w, Set.of())).iterator()});
                    } else if (onStack.contains(w)) {
                        low.put(v, Math.min(low.get(v), index.get(w)));
                    }
                    continue;
                }
                work.pop();
                if (!work.isEmpty()) {
                    String parent = (String) work.peek()[0];
                    low.put(parent, Math.min(low.get(parent), low.get(v)));
                }
                if (low.get(v).equals(index.get(v))) {
                    List<String> comp = new ArrayList<>();
                    String w;
                    do {
                        w = stack.pop();
                        onStack.remove(w);
                        comp.add(w);
                    } while (!w.equals(v));
                    if (comp.size() > 1) {
                        comp.sort(null);
                        result.add(comp);
                    }
                }
            }
        }
        return result;
    }
}
