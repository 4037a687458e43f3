// Jangkau's share sheet on Android: one exported file (CSV, PDF) sent with ACTION_SEND
// through Intent.createChooser. The app's Rust side has already checked the file is in
// its exports folder and chosen its MIME type (src-tauri/src/core/share.rs).
package id.jangkau.share

import android.app.Activity
import android.content.ClipData
import android.content.Intent
import androidx.core.content.FileProvider
import app.tauri.annotation.Command
import app.tauri.annotation.InvokeArg
import app.tauri.annotation.TauriPlugin
import app.tauri.plugin.Invoke
import app.tauri.plugin.Plugin
import java.io.File

@InvokeArg
class ShareFileArgs {
    lateinit var path: String
    lateinit var mimeType: String
    var title: String? = null
}

@TauriPlugin
class SharePlugin(private val activity: Activity) : Plugin(activity) {
    @Command
    fun shareFile(invoke: Invoke) {
        try {
            val args = invoke.parseArgs(ShareFileArgs::class.java)
            val source = File(args.path)
            // The FileProvider serves only cache/jangkau-share/ (res/xml/jangkau_share_paths.xml):
            // a copy goes there, never the database's folder. Earlier copies are removed.
            val dir = File(activity.cacheDir, SHARE_DIR)
            dir.mkdirs()
            dir.listFiles()?.forEach { it.delete() }
            val copy = File(dir, source.name)
            source.copyTo(copy, overwrite = true)
            val uri = FileProvider.getUriForFile(activity, activity.packageName + AUTHORITY_SUFFIX, copy)
            val title = args.title ?: source.name
            val send = Intent(Intent.ACTION_SEND).apply {
                type = args.mimeType
                putExtra(Intent.EXTRA_STREAM, uri)
                putExtra(Intent.EXTRA_TITLE, title)
                // Android 10+: the chooser's preview, and the read grant carried to the target.
                clipData = ClipData.newUri(activity.contentResolver, title, uri)
                addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
            }
            activity.startActivity(Intent.createChooser(send, title))
            invoke.resolve()
        } catch (e: Exception) {
            invoke.reject(e.message ?: "share failed")
        }
    }

    companion object {
        const val SHARE_DIR = "jangkau-share"
        // Must match android:authorities in this plugin's AndroidManifest.xml.
        const val AUTHORITY_SUFFIX = ".jangkau.share"
    }
}
