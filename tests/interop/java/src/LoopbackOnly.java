// A global execution interceptor (registered in
// software/amazon/awssdk/global/handlers/execution.interceptors, so it applies to every client the
// SDK builds, including the STS client inside the web-identity credentials provider): it reports
// where each request goes, and refuses to send anything that is not addressed to this machine.
// That is how the suite observes which endpoint a given SDK version chose, and why nothing can
// reach `*.amazonaws.com` even when an SDK version ignores an endpoint variable.
//
// One exception, for the harness's HTTPS proxy: a request for another host is let through when
// the JVM resolves host names only from a hosts file naming nothing but loopback
// (`-Djdk.net.hosts.file`, which the suite passes on the command line whenever the environment
// has proxy settings). Then no connection can leave this machine even if the SDK ignored the
// proxy: the request either goes through a proxy on this machine or fails to resolve its host
// (`UnknownHostException`), before any packet is sent.

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.util.VersionInfo;
import software.amazon.awssdk.http.SdkHttpRequest;

public final class LoopbackOnly implements ExecutionInterceptor {
    /**
     * Whether the JVM resolves names only from a hosts file (`jdk.net.hosts.file`) whose every
     * entry is a loopback address: then no host name outside this machine resolves.
     */
    static boolean resolvesOnlyLoopback() {
        String file = System.getProperty("jdk.net.hosts.file");
        if (file == null) return false;
        try {
            int entries = 0;
            for (String line : Files.readAllLines(Path.of(file))) {
                String entry = line.replaceAll("#.*", "").trim();
                if (entry.isEmpty()) continue;
                String address = entry.split("\\s+")[0];
                if (!(address.startsWith("127.") || address.equals("::1"))) return false;
                entries++;
            }
            return entries > 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context,
                                            ExecutionAttributes attributes) {
        SdkHttpRequest request = context.httpRequest();
        String host = request.host();
        boolean loopback = host.equals("127.0.0.1") || host.equals("localhost");
        boolean local = loopback || resolvesOnlyLoopback();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("event", "request");
        out.put("sdk", "java");
        out.put("version", VersionInfo.SDK_VERSION);
        out.put("service", attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME));
        out.put("operation", attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
        out.put("host", host + ":" + request.port());
        out.put("sent", local);
        out.put("via_loopback_resolution_only", !loopback && local);
        Interop.emit(out);
        if (!local) {
            throw new IllegalStateException("irsa-harness interop: refused to send a request to `"
                    + host + "`: this SDK version ignored the pod's endpoint variables");
        }
        return request;
    }
}
