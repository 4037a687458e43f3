import type { PluginCreator } from 'postcss';
import type { Plugin } from 'vite';
declare const legacyCss: PluginCreator<void>;
export default legacyCss;
export function legacyCssVite(): Plugin;
