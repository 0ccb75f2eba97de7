// A global execution interceptor (registered in
// software/amazon/awssdk/global/handlers/execution.interceptors, so it applies to every client the
// SDK builds, including the STS client inside the web-identity credentials provider): it reports
// where each request goes, and refuses to send anything that is not addressed to this machine.
// That is how the suite observes which endpoint a given SDK version chose, and why nothing can
// reach `*.amazonaws.com` even when an SDK version ignores an endpoint variable.

import java.util.LinkedHashMap;
import java.util.Map;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.util.VersionInfo;
import software.amazon.awssdk.http.SdkHttpRequest;

public final class LoopbackOnly implements ExecutionInterceptor {
    @Override
    public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context,
                                            ExecutionAttributes attributes) {
        SdkHttpRequest request = context.httpRequest();
        String host = request.host();
        boolean local = host.equals("127.0.0.1") || host.equals("localhost");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("event", "request");
        out.put("sdk", "java");
        out.put("version", VersionInfo.SDK_VERSION);
        out.put("service", attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME));
        out.put("operation", attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
        out.put("host", host + ":" + request.port());
        out.put("sent", local);
        Interop.emit(out);
        if (!local) {
            throw new IllegalStateException("irsa-harness interop: refused to send a request to `"
                    + host + "`: this SDK version ignored the pod's endpoint variables");
        }
        return request;
    }
}
