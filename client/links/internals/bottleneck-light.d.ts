// bottleneck's "light" build is the same Bottleneck class without Redis
// clustering, at 24 KB minified against 60 KB; it ships without its own
// declarations, so it borrows the full build's.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
