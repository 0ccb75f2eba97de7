// A global execution interceptor (registered in
// software/amazon/awssdk/global/handlers/execution.interceptors, so it applies to every client the
// SDK builds, including the STS client inside the web-identity credentials provider): it reports
// where each request goes, and refuses to send anything that is not addressed to this machine.
// That is how the suite observes which endpoint a given SDK version chose, and why nothing can
// reach `*.amazonaws.com` even when an SDK version ignores an endpoint variable.
//
// One exception: a request for another host is let through when the JVM's default trust store
// holds nothing but irsa-harness local CAs (the `JAVA_TOOL_OPTIONS` of `irsa exec`, for the
// harness's HTTPS proxy). Then no TLS handshake with a real AWS host can complete, so nothing
// can be sent there even if the SDK ignored the proxy: the request either goes through the
// harness's proxy or fails in the handshake.

import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.util.VersionInfo;
import software.amazon.awssdk.http.SdkHttpRequest;

public final class LoopbackOnly implements ExecutionInterceptor {
    /** Whether the JVM's default trust managers accept only certificates of irsa-harness CAs. */
    static boolean trustsOnlyTheHarness() {
        try {
            TrustManagerFactory factory =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init((KeyStore) null);
            int issuers = 0;
            for (TrustManager manager : factory.getTrustManagers()) {
                if (!(manager instanceof X509TrustManager)) return false;
                for (X509Certificate ca : ((X509TrustManager) manager).getAcceptedIssuers()) {
                    if (!ca.getSubjectX500Principal().getName().contains("CN=irsa-harness local CA")) {
                        return false;
                    }
                    issuers++;
                }
            }
            return issuers > 0;
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
        boolean local = loopback || trustsOnlyTheHarness();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("event", "request");
        out.put("sdk", "java");
        out.put("version", VersionInfo.SDK_VERSION);
        out.put("service", attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME));
        out.put("operation", attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
        out.put("host", host + ":" + request.port());
        out.put("sent", local);
        out.put("via_harness_ca_only", !loopback && local);
        Interop.emit(out);
        if (!local) {
            throw new IllegalStateException("irsa-harness interop: refused to send a request to `"
                    + host + "`: this SDK version ignored the pod's endpoint variables");
        }
        return request;
    }
}
