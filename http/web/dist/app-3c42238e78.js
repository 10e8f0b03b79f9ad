var ie,S,Be,Ft,G,Ge,Ve,ye,Je,Se,ke,we,Mt,Z={},ze=[],Ot=/acit|ex(?:s|g|n|p|$)|rph|grid|ows|mnc|ntw|ine[ch]|zoo|^ord|itera/i,Ce=Array.isArray;function L(e,t){for(var o in t)e[o]=t[o];return e}function xe(e){e&&e.parentNode&&e.parentNode.removeChild(e)}function Te(e,t,o){var n,r,s,a={};for(s in t)s=="key"?n=t[s]:s=="ref"?r=t[s]:a[s]=t[s];if(arguments.length>2&&(a.children=arguments.length>3?ie.call(arguments,2):o),typeof e=="function"&&e.defaultProps!=null)for(s in e.defaultProps)a[s]===void 0&&(a[s]=e.defaultProps[s]);return se(e,a,n,r,null)}function se(e,t,o,n,r){var s={type:e,props:t,key:o,ref:n,__k:null,__:null,__b:0,__e:null,__c:null,constructor:void 0,__v:r??++Be,__i:-1,__u:0};return r==null&&S.vnode!=null&&S.vnode(s),s}function le(e){return e.children}function ae(e,t){this.props=e,this.context=t}function W(e,t){if(t==null)return e.__?W(e.__,e.__i+1):null;for(var o;t<e.__k.length;t++)if((o=e.__k[t])!=null&&o.__e!=null)return o.__e;return typeof e.type=="function"?W(e):null}function Ke(e){var t,o;if((e=e.__)!=null&&e.__c!=null){for(e.__e=e.__c.base=null,t=0;t<e.__k.length;t++)if((o=e.__k[t])!=null&&o.__e!=null){e.__e=e.__c.base=o.__e;break}return Ke(e)}}function je(e){(!e.__d&&(e.__d=!0)&&G.push(e)&&!re.__r++||Ge!==S.debounceRendering)&&((Ge=S.debounceRendering)||Ve)(re)}function re(){var e,t,o,n,r,s,a,i;for(G.sort(ye);e=G.shift();)e.__d&&(t=G.length,n=void 0,s=(r=(o=e).__v).__e,a=[],i=[],o.__P&&((n=L({},r)).__v=r.__v+1,S.vnode&&S.vnode(n),Ee(o.__P,n,r,o.__n,o.__P.namespaceURI,32&r.__u?[s]:null,a,s??W(r),!!(32&r.__u),i),n.__v=r.__v,n.__.__k[n.__i]=n,Xe(a,n,i),n.__e!=s&&Ke(n)),G.length>t&&G.sort(ye));re.__r=0}function Qe(e,t,o,n,r,s,a,i,c,l,p){var d,_,h,y,b,w,f=n&&n.__k||ze,$=t.length;for(c=Lt(o,t,f,c,$),d=0;d<$;d++)(h=o.__k[d])!=null&&(_=h.__i===-1?Z:f[h.__i]||Z,h.__i=d,w=Ee(e,h,_,r,s,a,i,c,l,p),y=h.__e,h.ref&&_.ref!=h.ref&&(_.ref&&Ae(_.ref,null,h),p.push(h.ref,h.__c||y,h)),b==null&&y!=null&&(b=y),4&h.__u||_.__k===h.__k?c=Ze(h,c,e):typeof h.type=="function"&&w!==void 0?c=w:y&&(c=y.nextSibling),h.__u&=-7);return o.__e=b,c}function Lt(e,t,o,n,r){var s,a,i,c,l,p=o.length,d=p,_=0;for(e.__k=new Array(r),s=0;s<r;s++)(a=t[s])!=null&&typeof a!="boolean"&&typeof a!="function"?(c=s+_,(a=e.__k[s]=typeof a=="string"||typeof a=="number"||typeof a=="bigint"||a.constructor==String?se(null,a,null,null,null):Ce(a)?se(le,{children:a},null,null,null):a.constructor===void 0&&a.__b>0?se(a.type,a.props,a.key,a.ref?a.ref:null,a.__v):a).__=e,a.__b=e.__b+1,i=null,(l=a.__i=Ht(a,o,c,d))!==-1&&(d--,(i=o[l])&&(i.__u|=2)),i==null||i.__v===null?(l==-1&&_--,typeof a.type!="function"&&(a.__u|=4)):l!=c&&(l==c-1?_--:l==c+1?_++:(l>c?_--:_++,a.__u|=4))):e.__k[s]=null;if(d)for(s=0;s<p;s++)(i=o[s])!=null&&!(2&i.__u)&&(i.__e==n&&(n=W(i)),Ye(i,i));return n}function Ze(e,t,o){var n,r;if(typeof e.type=="function"){for(n=e.__k,r=0;n&&r<n.length;r++)n[r]&&(n[r].__=e,t=Ze(n[r],t,o));return t}e.__e!=t&&(t&&e.type&&!o.contains(t)&&(t=W(e)),o.insertBefore(e.__e,t||null),t=e.__e);do t=t&&t.nextSibling;while(t!=null&&t.nodeType==8);return t}function Ht(e,t,o,n){var r,s,a=e.key,i=e.type,c=t[o];if(c===null||c&&a==c.key&&i===c.type&&!(2&c.__u))return o;if(n>(c!=null&&!(2&c.__u)?1:0))for(r=o-1,s=o+1;r>=0||s<t.length;){if(r>=0){if((c=t[r])&&!(2&c.__u)&&a==c.key&&i===c.type)return r;r--}if(s<t.length){if((c=t[s])&&!(2&c.__u)&&a==c.key&&i===c.type)return s;s++}}return-1}function qe(e,t,o){t[0]=="-"?e.setProperty(t,o??""):e[t]=o==null?"":typeof o!="number"||Ot.test(t)?o:o+"px"}function ne(e,t,o,n,r){var s;e:if(t=="style")if(typeof o=="string")e.style.cssText=o;else{if(typeof n=="string"&&(e.style.cssText=n=""),n)for(t in n)o&&t in o||qe(e.style,t,"");if(o)for(t in o)n&&o[t]===n[t]||qe(e.style,t,o[t])}else if(t[0]=="o"&&t[1]=="n")s=t!=(t=t.replace(Je,"$1")),t=t.toLowerCase()in e||t=="onFocusOut"||t=="onFocusIn"?t.toLowerCase().slice(2):t.slice(2),e.l||(e.l={}),e.l[t+s]=o,o?n?o.u=n.u:(o.u=Se,e.addEventListener(t,s?we:ke,s)):e.removeEventListener(t,s?we:ke,s);else{if(r=="http://www.w3.org/2000/svg")t=t.replace(/xlink(H|:h)/,"h").replace(/sName$/,"s");else if(t!="width"&&t!="height"&&t!="href"&&t!="list"&&t!="form"&&t!="tabIndex"&&t!="download"&&t!="rowSpan"&&t!="colSpan"&&t!="role"&&t!="popover"&&t in e)try{e[t]=o??"";break e}catch{}typeof o=="function"||(o==null||o===!1&&t[4]!="-"?e.removeAttribute(t):e.setAttribute(t,t=="popover"&&o==1?"":o))}}function We(e){return function(t){if(this.l){var o=this.l[t.type+e];if(t.t==null)t.t=Se++;else if(t.t<o.u)return;return o(S.event?S.event(t):t)}}}function Ee(e,t,o,n,r,s,a,i,c,l){var p,d,_,h,y,b,w,f,$,R,E,N,M,K,q,ve,ge,F=t.type;if(t.constructor!==void 0)return null;128&o.__u&&(c=!!(32&o.__u),s=[i=t.__e=o.__e]),(p=S.__b)&&p(t);e:if(typeof F=="function")try{if(f=t.props,$="prototype"in F&&F.prototype.render,R=(p=F.contextType)&&n[p.__c],E=p?R?R.props.value:p.__:n,o.__c?w=(d=t.__c=o.__c).__=d.__E:($?t.__c=d=new F(f,E):(t.__c=d=new ae(f,E),d.constructor=F,d.render=jt),R&&R.sub(d),d.props=f,d.state||(d.state={}),d.context=E,d.__n=n,_=d.__d=!0,d.__h=[],d._sb=[]),$&&d.__s==null&&(d.__s=d.state),$&&F.getDerivedStateFromProps!=null&&(d.__s==d.state&&(d.__s=L({},d.__s)),L(d.__s,F.getDerivedStateFromProps(f,d.__s))),h=d.props,y=d.state,d.__v=t,_)$&&F.getDerivedStateFromProps==null&&d.componentWillMount!=null&&d.componentWillMount(),$&&d.componentDidMount!=null&&d.__h.push(d.componentDidMount);else{if($&&F.getDerivedStateFromProps==null&&f!==h&&d.componentWillReceiveProps!=null&&d.componentWillReceiveProps(f,E),!d.__e&&(d.shouldComponentUpdate!=null&&d.shouldComponentUpdate(f,d.__s,E)===!1||t.__v==o.__v)){for(t.__v!=o.__v&&(d.props=f,d.state=d.__s,d.__d=!1),t.__e=o.__e,t.__k=o.__k,t.__k.some(function(Q){Q&&(Q.__=t)}),N=0;N<d._sb.length;N++)d.__h.push(d._sb[N]);d._sb=[],d.__h.length&&a.push(d);break e}d.componentWillUpdate!=null&&d.componentWillUpdate(f,d.__s,E),$&&d.componentDidUpdate!=null&&d.__h.push(function(){d.componentDidUpdate(h,y,b)})}if(d.context=E,d.props=f,d.__P=e,d.__e=!1,M=S.__r,K=0,$){for(d.state=d.__s,d.__d=!1,M&&M(t),p=d.render(d.props,d.state,d.context),q=0;q<d._sb.length;q++)d.__h.push(d._sb[q]);d._sb=[]}else do d.__d=!1,M&&M(t),p=d.render(d.props,d.state,d.context),d.state=d.__s;while(d.__d&&++K<25);d.state=d.__s,d.getChildContext!=null&&(n=L(L({},n),d.getChildContext())),$&&!_&&d.getSnapshotBeforeUpdate!=null&&(b=d.getSnapshotBeforeUpdate(h,y)),i=Qe(e,Ce(ve=p!=null&&p.type===le&&p.key==null?p.props.children:p)?ve:[ve],t,o,n,r,s,a,i,c,l),d.base=t.__e,t.__u&=-161,d.__h.length&&a.push(d),w&&(d.__E=d.__=null)}catch(Q){if(t.__v=null,c||s!=null)if(Q.then){for(t.__u|=c?160:128;i&&i.nodeType==8&&i.nextSibling;)i=i.nextSibling;s[s.indexOf(i)]=null,t.__e=i}else for(ge=s.length;ge--;)xe(s[ge]);else t.__e=o.__e,t.__k=o.__k;S.__e(Q,t,o)}else s==null&&t.__v==o.__v?(t.__k=o.__k,t.__e=o.__e):i=t.__e=Gt(o.__e,t,o,n,r,s,a,c,l);return(p=S.diffed)&&p(t),128&t.__u?void 0:i}function Xe(e,t,o){for(var n=0;n<o.length;n++)Ae(o[n],o[++n],o[++n]);S.__c&&S.__c(t,e),e.some(function(r){try{e=r.__h,r.__h=[],e.some(function(s){s.call(r)})}catch(s){S.__e(s,r.__v)}})}function Gt(e,t,o,n,r,s,a,i,c){var l,p,d,_,h,y,b,w=o.props,f=t.props,$=t.type;if($=="svg"?r="http://www.w3.org/2000/svg":$=="math"?r="http://www.w3.org/1998/Math/MathML":r||(r="http://www.w3.org/1999/xhtml"),s!=null){for(l=0;l<s.length;l++)if((h=s[l])&&"setAttribute"in h==!!$&&($?h.localName==$:h.nodeType==3)){e=h,s[l]=null;break}}if(e==null){if($==null)return document.createTextNode(f);e=document.createElementNS(r,$,f.is&&f),i&&(S.__m&&S.__m(t,s),i=!1),s=null}if($===null)w===f||i&&e.data===f||(e.data=f);else{if(s=s&&ie.call(e.childNodes),w=o.props||Z,!i&&s!=null)for(w={},l=0;l<e.attributes.length;l++)w[(h=e.attributes[l]).name]=h.value;for(l in w)if(h=w[l],l!="children"){if(l=="dangerouslySetInnerHTML")d=h;else if(!(l in f)){if(l=="value"&&"defaultValue"in f||l=="checked"&&"defaultChecked"in f)continue;ne(e,l,null,h,r)}}for(l in f)h=f[l],l=="children"?_=h:l=="dangerouslySetInnerHTML"?p=h:l=="value"?y=h:l=="checked"?b=h:i&&typeof h!="function"||w[l]===h||ne(e,l,h,w[l],r);if(p)i||d&&(p.__html===d.__html||p.__html===e.innerHTML)||(e.innerHTML=p.__html),t.__k=[];else if(d&&(e.innerHTML=""),Qe(e,Ce(_)?_:[_],t,o,n,$=="foreignObject"?"http://www.w3.org/1999/xhtml":r,s,a,s?s[0]:o.__k&&W(o,0),i,c),s!=null)for(l=s.length;l--;)xe(s[l]);i||(l="value",$=="progress"&&y==null?e.removeAttribute("value"):y!==void 0&&(y!==e[l]||$=="progress"&&!y||$=="option"&&y!==w[l])&&ne(e,l,y,w[l],r),l="checked",b!==void 0&&b!==e[l]&&ne(e,l,b,w[l],r))}return e}function Ae(e,t,o){try{if(typeof e=="function"){var n=typeof e.__u=="function";n&&e.__u(),n&&t==null||(e.__u=e(t))}else e.current=t}catch(r){S.__e(r,o)}}function Ye(e,t,o){var n,r;if(S.unmount&&S.unmount(e),(n=e.ref)&&(n.current&&n.current!==e.__e||Ae(n,null,t)),(n=e.__c)!=null){if(n.componentWillUnmount)try{n.componentWillUnmount()}catch(s){S.__e(s,t)}n.base=n.__P=null}if(n=e.__k)for(r=0;r<n.length;r++)n[r]&&Ye(n[r],t,o||typeof e.type!="function");o||xe(e.__e),e.__c=e.__=e.__e=void 0}function jt(e,t,o){return this.constructor(e,o)}function et(e,t,o){var n,r,s,a;t==document&&(t=document.documentElement),S.__&&S.__(e,t),r=(n=typeof o=="function")?null:o&&o.__k||t.__k,s=[],a=[],Ee(t,e=(!n&&o||t).__k=Te(le,null,[e]),r||Z,Z,t.namespaceURI,!n&&o?[o]:r?null:t.firstChild?ie.call(t.childNodes):null,s,!n&&o?o:r?r.__e:t.firstChild,n,a),Xe(s,e,a)}ie=ze.slice,S={__e:function(e,t,o,n){for(var r,s,a;t=t.__;)if((r=t.__c)&&!r.__)try{if((s=r.constructor)&&s.getDerivedStateFromError!=null&&(r.setState(s.getDerivedStateFromError(e)),a=r.__d),r.componentDidCatch!=null&&(r.componentDidCatch(e,n||{}),a=r.__d),a)return r.__E=r}catch(i){e=i}throw e}},Be=0,Ft=function(e){return e!=null&&e.constructor==null},ae.prototype.setState=function(e,t){var o;o=this.__s!=null&&this.__s!==this.state?this.__s:this.__s=L({},this.state),typeof e=="function"&&(e=e(L({},o),this.props)),e&&L(o,e),e!=null&&this.__v&&(t&&this._sb.push(t),je(this))},ae.prototype.forceUpdate=function(e){this.__v&&(this.__e=!0,e&&this.__h.push(e),je(this))},ae.prototype.render=le,G=[],Ve=typeof Promise=="function"?Promise.prototype.then.bind(Promise.resolve()):setTimeout,ye=function(e,t){return e.__v.__b-t.__v.__b},re.__r=0,Je=/(PointerCapture)$|Capture$/i,Se=0,ke=We(!1),we=We(!0),Mt=0;var X,C,Pe,tt,Y=0,ct=[],T=S,ot=T.__b,nt=T.__r,st=T.diffed,at=T.__c,rt=T.unmount,it=T.__;function Ie(e,t){T.__h&&T.__h(C,e,Y||t),Y=0;var o=C.__H||(C.__H={__:[],__h:[]});return e>=o.__.length&&o.__.push({}),o.__[e]}function v(e){return Y=1,qt(ht,e)}function qt(e,t,o){var n=Ie(X++,2);if(n.t=e,!n.__c&&(n.__=[o?o(t):ht(void 0,t),function(i){var c=n.__N?n.__N[0]:n.__[0],l=n.t(c,i);c!==l&&(n.__N=[l,n.__[1]],n.__c.setState({}))}],n.__c=C,!C.u)){var r=function(i,c,l){if(!n.__c.__H)return!0;var p=n.__c.__H.__.filter(function(_){return!!_.__c});if(p.every(function(_){return!_.__N}))return!s||s.call(this,i,c,l);var d=n.__c.props!==i;return p.forEach(function(_){if(_.__N){var h=_.__[0];_.__=_.__N,_.__N=void 0,h!==_.__[0]&&(d=!0)}}),s&&s.call(this,i,c,l)||d};C.u=!0;var s=C.shouldComponentUpdate,a=C.componentWillUpdate;C.componentWillUpdate=function(i,c,l){if(this.__e){var p=s;s=void 0,r(i,c,l),s=p}a&&a.call(this,i,c,l)},C.shouldComponentUpdate=r}return n.__N||n.__}function A(e,t){var o=Ie(X++,3);!T.__s&&_t(o.__H,t)&&(o.__=e,o.i=t,C.__H.__h.push(o))}function dt(e){return Y=5,ut(function(){return{current:e}},[])}function ut(e,t){var o=Ie(X++,7);return _t(o.__H,t)&&(o.__=e(),o.__H=t,o.__h=e),o.__}function pt(e,t){return Y=8,ut(function(){return e},t)}function Wt(){for(var e;e=ct.shift();)if(e.__P&&e.__H)try{e.__H.__h.forEach(ce),e.__H.__h.forEach(Re),e.__H.__h=[]}catch(t){e.__H.__h=[],T.__e(t,e.__v)}}T.__b=function(e){C=null,ot&&ot(e)},T.__=function(e,t){e&&t.__k&&t.__k.__m&&(e.__m=t.__k.__m),it&&it(e,t)},T.__r=function(e){nt&&nt(e),X=0;var t=(C=e.__c).__H;t&&(Pe===C?(t.__h=[],C.__h=[],t.__.forEach(function(o){o.__N&&(o.__=o.__N),o.i=o.__N=void 0})):(t.__h.forEach(ce),t.__h.forEach(Re),t.__h=[],X=0)),Pe=C},T.diffed=function(e){st&&st(e);var t=e.__c;t&&t.__H&&(t.__H.__h.length&&(ct.push(t)!==1&&tt===T.requestAnimationFrame||((tt=T.requestAnimationFrame)||Bt)(Wt)),t.__H.__.forEach(function(o){o.i&&(o.__H=o.i),o.i=void 0})),Pe=C=null},T.__c=function(e,t){t.some(function(o){try{o.__h.forEach(ce),o.__h=o.__h.filter(function(n){return!n.__||Re(n)})}catch(n){t.some(function(r){r.__h&&(r.__h=[])}),t=[],T.__e(n,o.__v)}}),at&&at(e,t)},T.unmount=function(e){rt&&rt(e);var t,o=e.__c;o&&o.__H&&(o.__H.__.forEach(function(n){try{ce(n)}catch(r){t=r}}),o.__H=void 0,t&&T.__e(t,o.__v))};var lt=typeof requestAnimationFrame=="function";function Bt(e){var t,o=function(){clearTimeout(n),lt&&cancelAnimationFrame(t),setTimeout(e)},n=setTimeout(o,100);lt&&(t=requestAnimationFrame(o))}function ce(e){var t=C,o=e.__c;typeof o=="function"&&(e.__c=void 0,o()),C=t}function Re(e){var t=C;e.__c=e.__(),C=t}function _t(e,t){return!e||e.length!==t.length||t.some(function(o,n){return o!==e[n]})}function ht(e,t){return typeof t=="function"?t(e):t}var B=null,D=null,Ne=null,De=new Set;function ue(e){return De.add(e),()=>De.delete(e)}function de(e){e?(B=e.access_token,D={tenant:e.tenant_id,role:e.role,user:e.user},clearTimeout(Ne),Ne=setTimeout(_e,Math.max(5,e.expires_in*.8)*1e3)):(B=null,D=null,clearTimeout(Ne));for(let t of De)t(D)}function pe(){return D}function j(){return B}async function mt(e,t,o){let n=await fetch("/auth/login",{method:"POST",headers:{"Content-Type":"application/json"},body:JSON.stringify({tenant:e,username:t,password:o})}),r=await n.json().catch(()=>({}));if(!n.ok)throw new Error(r.error?.message??`sign-in failed (${n.status})`);return de(r),D}async function _e(){let e=await fetch("/auth/refresh",{method:"POST"});return e.ok?(de(await e.json()),D):(de(null),null)}async function $t(){await fetch("/auth/logout",{method:"POST",headers:B?{Authorization:`Bearer ${B}`}:{}}),de(null)}var ee=class extends Error{constructor(t,o){super(o?.error?.message??`request failed (${t})`),this.status=t,this.field=o?.error?.field,this.body=o}};async function m(e,t,o,n){if(!D)throw new ee(401,null);let r={Authorization:`Bearer ${B}`};o!==void 0&&(r["Content-Type"]=n??"application/json");let s=await fetch(`/api/v1/tenants/${encodeURIComponent(D.tenant)}${t}`,{method:e,headers:r,body:o===void 0||n?o:JSON.stringify(o)});if(s.status===401){if(await _e())return m(e,t,o,n);throw new ee(401,null)}let a=await s.text(),i=a?JSON.parse(a):null;if(!s.ok)throw new ee(s.status,i);return i}function H(){return D&&(D.role==="engineer"||D.role==="admin")}function Ue(){return D?.role==="admin"}var I=null,Me="offline",he=500,Vt=1,$e=new Map,Fe=new Set;function me(e){Me=e;for(let t of Fe)t(e)}function ft(e){return Fe.add(e),e(Me),()=>Fe.delete(e)}function te(e){I&&I.readyState===WebSocket.OPEN&&I.send(JSON.stringify(e))}function Jt(){for(let[e,t]of $e)te({type:"subscribe",sub:e,topic:t.topic,...t.filter})}function Oe(){if(!j()||I)return;me("connecting");let e=location.protocol==="https:"?"wss":"ws";I=new WebSocket(`${e}://${location.host}/ws`),I.onopen=()=>te({type:"auth",token:j()}),I.onmessage=t=>{let o;try{o=JSON.parse(t.data)}catch{return}if(o.type==="authenticated"){he=500,Me!=="live"&&Jt(),me("live");return}let n=$e.get(o.sub);n&&(o.type==="subscribed"?n.ready?.():o.type!=="unsubscribed"&&o.type!=="error"&&n.fn(o))},I.onclose=()=>{if(I=null,!j()){me("offline");return}me("reconnecting"),setTimeout(Oe,he),he=Math.min(he*2,15e3)}}ue(e=>{if(!e){I&&I.close();return}I&&I.readyState===WebSocket.OPEN?te({type:"auth",token:j()}):Oe()});function V(e,t,o,n){let r=`s${Vt++}`;return $e.set(r,{topic:e,filter:t,fn:o,ready:n}),te({type:"subscribe",sub:r,topic:e,...t}),Oe(),()=>{$e.delete(r),te({type:"unsubscribe",sub:r})}}var vt=function(e,t,o,n){var r;t[0]=0;for(var s=1;s<t.length;s++){var a=t[s++],i=t[s]?(t[0]|=a?1:2,o[t[s++]]):t[++s];a===3?n[0]=i:a===4?n[1]=Object.assign(n[1]||{},i):a===5?(n[1]=n[1]||{})[t[++s]]=i:a===6?n[1][t[++s]]+=i+"":a?(r=e.apply(i,vt(e,i,o,["",null])),n.push(r),i[0]?t[0]|=2:(t[s-2]=0,t[s]=r)):n.push(i)}return n},bt=new Map;function gt(e){var t=bt.get(this);return t||(t=new Map,bt.set(this,t)),(t=vt(this,t.get(e)||(t.set(e,t=function(o){for(var n,r,s=1,a="",i="",c=[0],l=function(_){s===1&&(_||(a=a.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?c.push(0,_,a):s===3&&(_||a)?(c.push(3,_,a),s=2):s===2&&a==="..."&&_?c.push(4,_,0):s===2&&a&&!_?c.push(5,0,!0,a):s>=5&&((a||!_&&s===5)&&(c.push(s,0,a,r),s=6),_&&(c.push(s,_,0,r),s=6)),a=""},p=0;p<o.length;p++){p&&(s===1&&l(),l(p));for(var d=0;d<o[p].length;d++)n=o[p][d],s===1?n==="<"?(l(),c=[c],s=3):a+=n:s===4?a==="--"&&n===">"?(s=1,a=""):a=n+a[0]:i?n===i?i="":a+=n:n==='"'||n==="'"?i=n:n===">"?(l(),s=1):s&&(n==="="?(s=5,r=a,a=""):n==="/"&&(s<5||o[p][d+1]===">")?(l(),s===3&&(c=c[0]),s=c,(c=c[0]).push(2,0,s),s=0):n===" "||n==="	"||n===`
`||n==="\r"?(l(),s=2):a+=n),s===3&&a==="!--"&&(s=4,c=c[0])}return l(),c}(e)),t),arguments,[])).length>1?t:t[0]}var u=gt.bind(Te);function k(e,t){let[o,n]=v({data:null,error:null}),r=dt(0),s=pt(()=>{let a=++r.current;e().then(i=>a===r.current&&n({data:i,error:null}),i=>a===r.current&&n({data:null,error:i}))},t);return A(s,[s]),{...o,reload:s}}function g({error:e}){return e?u`<p class="problem" role="alert">${e.message}</p>`:null}function P({label:e,value:t,id:o}){return u`<div class="kpi" data-kpi=${o}><span class="label">${e}</span><span class="value">${t??"\u2014"}</span></div>`}function oe({level:e}){return u`<span class=${`badge ${e}`}>${e}</span>`}function fe({value:e}){let t=Math.max(0,Math.min(100,e??0)),o=t<60?"bad":t<85?"fair":"good";return u`<span class="health" title=${`health ${t}`}><span class=${`bar ${o}`} style=${`width:${t}%`}></span><span class="num">${t}</span></span>`}function x(e){return e?new Date(e).toLocaleString():"\u2014"}var yt=[["1h",3600],["6h",21600],["24h",86400],["7d",604800],["30d",2592e3],["180d",15552e3]];function be({name:e,data:t,thresholds:o}){let a=t.time;if(!a.length)return u`<figure class="chart"><figcaption>${e}</figcaption><p class="muted">no points in this range</p></figure>`;let i=[...t.min,...t.max,...o.map(f=>f.threshold)].filter(Number.isFinite),c=Math.min(...i),l=Math.max(...i);c===l&&(c-=1,l+=1);let p=a[0],d=a[a.length-1]===p?p+1:a[a.length-1],_=f=>4+(f-p)/(d-p)*(600-2*4),h=f=>136-(f-c)/(l-c)*(140-2*4),y=a.map((f,$)=>`${$?"L":"M"}${_(f).toFixed(1)},${h(t.mean[$]).toFixed(1)}`).join(""),b=a.map((f,$)=>`${$?"L":"M"}${_(f).toFixed(1)},${h(t.max[$]).toFixed(1)}`).join("")+a.map((f,$)=>`L${_(a[a.length-1-$]).toFixed(1)},${h(t.min[a.length-1-$]).toFixed(1)}`).join("")+"Z",w=t.mean[t.mean.length-1];return u`<figure class="chart" data-chart=${e} data-points=${a.length}>
    <figcaption>${e} <span class="muted">last ${Number.isFinite(w)?w:"\u2014"} · range ${c.toPrecision(4)}–${l.toPrecision(4)}</span></figcaption>
    <svg viewBox=${"0 0 600 140"} role="img" aria-label=${`${e} over the chosen range`} preserveAspectRatio="none">
      <path class="band" d=${b} />
      <path class="mean" d=${y} />
      ${o.map(f=>u`<line class=${`threshold ${f.severity}`} x1="0" x2=${600} y1=${h(f.threshold)} y2=${h(f.threshold)}><title>${`${f.name}: ${f.operator} ${f.threshold}`}</title></line>`)}
    </svg>
  </figure>`}async function J(e,t){let o=await fetch(`/api/v1/tenants/${encodeURIComponent(pe().tenant)}${e}`,{headers:{Authorization:`Bearer ${j()}`}});if(!o.ok)throw new Error(`export failed (${o.status})`);let n=URL.createObjectURL(await o.blob()),r=document.createElement("a");r.href=n,r.download=t,r.click(),URL.revokeObjectURL(n)}function z({id:e,label:t,dates:o,series:n,line:r=!1}){let c=o.length,l=o.map(($,R)=>n.reduce((E,N)=>E+(N.values[R]??0),0)),p=n.flatMap($=>$.values).filter($=>$!=null),d=Math.max(...r?p:l,1),_=r&&p.length?Math.min(...p,d-1):0,h=$=>61-($-_)/(d-_)*(64-2*3),y=(300-2*3)/Math.max(c,1),b;if(r){let $=n[0],R=$.values.map((E,N)=>E==null?"":`${$.values[N-1]==null?"M":"L"}${(3+y*(N+.5)).toFixed(1)},${h(E).toFixed(1)}`).join("");b=u`<path class=${`spark-line ${$.cls??""}`} d=${R} />`}else b=o.map(($,R)=>{let E=0;return n.map(N=>{let M=N.values[R]??0;if(!M)return null;let K=h(E+M),q=h(E);return E+=M,u`<rect class=${`spark-bar ${N.cls??""}`} x=${(3+y*R+y*.1).toFixed(1)} width=${(y*.8).toFixed(1)} y=${K.toFixed(1)} height=${(q-K).toFixed(1)} />`})});let w=r?[...n[0].values].reverse().find($=>$!=null):l[c-1],f=r?`latest ${w??"none"}`:`${l.reduce(($,R)=>$+R,0)} in ${c} days`;return u`<figure class="spark" data-spark=${e}>
    <figcaption>${t} <span class="muted">${f}</span></figcaption>
    <svg viewBox=${"0 0 300 64"} role="img" aria-label=${`${t}, ${f}, ${o[0]??""} to ${o[c-1]??""}`} preserveAspectRatio="none">${b}</svg>
    ${n.length>1&&u`<p class="legend">${n.map($=>u`<span class=${`key ${$.cls}`}>${$.label}</span>`)}</p>`}
  </figure>`}function U(e){let[t,o]=v(null);return[async r=>{try{let s=await r();return o(null),e&&e(s),s}catch(s){o(s);return}},t]}function O(e){return e==null?"\u2014":`${Math.round(e*100)} %`}function zt({alert:e,onDone:t}){let[o,n]=v(null);if(!H()||e.status==="resolved")return null;let r=async s=>{let a=prompt(`Notes for ${s==="acknowledged"?"acknowledging":"resolving"} (optional)`)??"";try{await m("PATCH",`/alerts/${encodeURIComponent(e.id)}`,{status:s,notes:a}),t()}catch(i){n(i)}};return u`<span class="actions">
    ${e.status==="open"&&u`<button onClick=${()=>r("acknowledged")}>Acknowledge</button>`}
    <button onClick=${()=>r("resolved")}>Resolve</button>
    <${g} error=${o} />
  </span>`}function Kt({alert:e}){return u`<details class="history"><summary>History (${e.history.length})</summary><ol>${e.history.map(t=>u`<li>${t.status} by ${t.by} · ${x(t.at)}${t.notes?u` — <q>${t.notes}</q>`:""}</li>`)}</ol></details>`}function Le({items:e,reload:t}){return u`<table>
    <thead><tr><th scope="col">Severity</th><th scope="col">Asset</th><th scope="col">Message</th><th scope="col">Status</th><th scope="col">Opened</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
    <tbody>${e.map(o=>u`<tr key=${o.id} data-alert=${o.id}>
        <td><${oe} level=${o.severity} /></td>
        <td><a href=${`#/assets/${encodeURIComponent(o.asset_id)}`}>${o.asset_id}</a></td>
        <td>${o.message}<${Kt} alert=${o} /></td><td class="status">${o.status}</td><td>${x(o.opened_at)}</td>
        <td><${zt} alert=${o} onDone=${t} /></td></tr>`)}</tbody>
  </table>`}function wt(){let[e,t]=v("open"),[o,n]=v(""),[r,s]=v(""),a=`${e?`&status=${e}`:""}${o?`&severity=${o}`:""}${r?`&asset_id=${encodeURIComponent(r)}`:""}`,i=k(()=>m("GET",`/alerts?limit=100&sort=-opened_at${a}`),[a]);return A(()=>V("alerts",{},()=>i.reload()),[i.reload]),u`<section aria-labelledby="alerts-title">
    <h1 id="alerts-title">Alerts</h1>
    <div class="toolbar">
      <label>Status <select value=${e} onChange=${c=>t(c.target.value)}>
        <option value="open">open</option><option value="acknowledged">acknowledged</option>
        <option value="resolved">resolved</option><option value="">any</option>
      </select></label>
      <label>Severity <select value=${o} onChange=${c=>n(c.target.value)}>
        <option value="">any</option><option>critical</option><option>warning</option><option>info</option></select></label>
      <label>Asset <input value=${r} placeholder="asset id" onChange=${c=>s(c.target.value.trim())} /></label>
      <button onClick=${()=>J(`/alerts?format=csv${a}`,"alerts.csv")}>Export CSV</button>
    </div>
    <${g} error=${i.error} />
    <p class="muted">${i.data?`${i.data.total} alerts`:""}</p>
    <${Le} items=${i.data?.items??[]} reload=${i.reload} />
  </section>`}var Qt=["gt","gte","lt","lte","eq","ne"];function kt({rule:e,onSaved:t,onCancel:o}){let[n,r]=v(null),s=async c=>{c.preventDefault();let l=new FormData(c.target),p={name:l.get("name"),metric:l.get("metric"),operator:l.get("operator"),threshold:Number(l.get("threshold")),severity:l.get("severity"),source:l.get("source"),for_seconds:Number(l.get("for_seconds")||0),cooldown_seconds:Number(l.get("cooldown_seconds")||0)};p.source!=="raw"&&(p.aggregate=l.get("aggregate"));let d={};for(let _ of["asset_type","site","asset_id"])l.get(_)&&(d[_]=l.get(_));p.scope=d;try{if(e){let _={};for(let[h,y]of Object.entries(p))JSON.stringify(y)!==JSON.stringify(e[h]??(h==="scope"?{}:void 0))&&(_[h]=y);await m("PATCH",`/rules/${encodeURIComponent(e.id)}`,_)}else await m("POST","/rules",p),c.target.reset();r(null),t()}catch(_){r(_)}},a=e??{},i=a.scope??{};return u`<form class="inline" onSubmit=${s} aria-label=${e?`Edit rule ${e.name}`:"New rule"} data-editing=${e?.id}>
    <label>Name <input name="name" required value=${a.name} /></label>
    <label>Metric <input name="metric" required value=${a.metric} /></label>
    <label>Operator <select name="operator" value=${a.operator}>${Qt.map(c=>u`<option>${c}</option>`)}</select></label>
    <label>Threshold <input name="threshold" type="number" step="any" required value=${a.threshold} /></label>
    <label>Source <select name="source" value=${a.source}><option>raw</option><option>5m</option><option>1h</option><option>24h</option></select></label>
    <label>Aggregate <select name="aggregate" value=${a.aggregate}><option>mean</option><option>min</option><option>max</option><option>stddev</option><option>count</option></select></label>
    <label>Severity <select name="severity" value=${a.severity}><option>warning</option><option>critical</option><option>info</option></select></label>
    <label>For (s) <input name="for_seconds" type="number" min="0" value=${a.for_seconds??0} /></label>
    <label>Cooldown (s) <input name="cooldown_seconds" type="number" min="0" value=${a.cooldown_seconds??0} /></label>
    <label>Asset type <input name="asset_type" value=${i.asset_type} /></label>
    <label>Site <input name="site" value=${i.site} /></label>
    <label>Asset <input name="asset_id" value=${i.asset_id} /></label>
    <button type="submit">${e?"Save rule":"Create rule"}</button>
    ${e&&u`<button type="button" onClick=${o}>Cancel</button>`}
    <${g} error=${n} />
  </form>`}function St(){let e=k(()=>m("GET","/rules?limit=1000"),[]),[t,o]=v(null),n=async i=>{try{await i(),o(null),e.reload()}catch(c){o(c)}},r=H(),[s,a]=v(null);return u`<section aria-labelledby="rules-title">
    <h1 id="rules-title">Rules</h1>
    ${r&&!s&&u`<${kt} onSaved=${e.reload} />`}
    ${r&&s&&u`<${kt} key=${s.id} rule=${s} onCancel=${()=>a(null)}
      onSaved=${()=>{a(null),e.reload()}} />`}
    <${g} error=${t||e.error} />
    <table>
      <thead><tr><th scope="col">Name</th><th scope="col">Condition</th><th scope="col">Scope</th><th scope="col">Severity</th><th scope="col">Enabled</th>${r&&u`<th scope="col"><span class="sr">Actions</span></th>`}</tr></thead>
      <tbody>${(e.data?.items??[]).map(i=>u`<tr key=${i.id} data-rule=${i.id}>
          <td>${i.name}</td>
          <td>${i.source==="raw"?"":`${i.aggregate}(${i.source}) of `}${i.metric} ${i.operator} ${i.threshold}</td>
          <td>${Object.entries(i.scope??{}).map(([c,l])=>`${c}=${l}`).join(", ")||"every asset"}</td>
          <td><${oe} level=${i.severity} /></td><td>${i.enabled?"yes":"no"}</td>
          ${r&&u`<td class="actions">
            <button onClick=${()=>a(i)}>Edit</button>
            <button onClick=${()=>n(()=>m("PATCH",`/rules/${i.id}`,{enabled:!i.enabled}))}>${i.enabled?"Disable":"Enable"}</button>
            <button onClick=${()=>confirm(`Delete rule ${i.name}?`)&&n(()=>m("DELETE",`/rules/${i.id}`))}>Delete</button>
          </td>`}</tr>`)}</tbody>
    </table>
  </section>`}function xt(){let e=k(()=>m("GET","/reports/fleet"),[]),t=new Date().getUTCDate(),o=k(()=>m("GET",`/reports/cost-avoidance?days=${t}`),[]),n=k(async()=>{let p=await m("GET","/assets?sort=-fails_30d&limit=8");return p.items.some(d=>d.prediction)?{...p,by:"risk"}:{...await m("GET","/assets?sort=health&limit=8"),by:"health"}},[]),r=k(()=>m("GET","/reports/history?days=30"),[]),[s,a]=v([]),[i,c]=v(!1);A(()=>(m("GET","/alerts?limit=10&sort=-opened_at").then(p=>a(p.items),()=>{}),V("alerts",{},p=>{a(d=>[p.alert,...d.filter(_=>_.id!==p.alert.id)].slice(0,20)),e.reload(),n.reload()},()=>c(!0))),[]);let l=e.data;return u`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Overview</h1>
    <${g} error=${e.error} />
    <div class="kpis">
      <${P} id="assets" label="Assets" value=${l?.assets} />
      <${P} id="at_risk" label="At risk" value=${l?.assets_at_risk} />
      <${P} id="open_alerts" label="Open alerts" value=${l?.open_alerts.total} />
      <${P} id="critical" label="Critical" value=${l?.open_alerts.critical} />
      <${P} id="warning" label="Warning" value=${l?.open_alerts.warning} />
      <${P} id="fleet_health" label="Fleet health" value=${l&&u`<${Zt} value=${l.fleet_health} />`} />
      <${P} id="net_savings" label=${`Saved this month (${o.data?.currency??""})`}
        value=${o.data?Math.round(o.data.net_savings).toLocaleString():null} />
    </div>
    <${Xt} days=${r.data?.days} error=${r.error} />
    <div class="columns">
      <div>
        <h2>${n.data?.by==="risk"?"Highest risk":"Lowest health"}</h2>
        <table data-by=${n.data?.by}>
          <thead><tr><th scope="col">Asset</th><th scope="col">Type</th><th scope="col">Health</th><th scope="col">Risk</th></tr></thead>
          <tbody>${(n.data?.items??[]).map(p=>u`<tr key=${p.id}><td><a href=${`#/assets/${encodeURIComponent(p.id)}`}>${p.name||p.id}</a></td><td>${p.asset_type??""}</td><td><${fe} value=${p.health} /></td>
              <td>${p.prediction?u`<span class=${`badge risk-${p.prediction.risk}`}>${p.prediction.risk}</span> ${O(p.prediction.fails_30d)}`:u`<span class="muted">not scored</span>`}</td></tr>`)}</tbody>
        </table>
      </div>
      <div>
        <h2>Live alerts</h2>
        <ul class="feed" aria-live="polite" data-live=${i}>${s.map(p=>u`<li key=${p.id}><${oe} level=${p.severity} /> <a href=${`#/assets/${encodeURIComponent(p.asset_id)}`}>${p.asset_id}</a> ${p.message} <span class="muted">${p.status} · ${x(p.opened_at)}</span></li>`)}</ul>
      </div>
    </div>
  </section>`}function Zt({value:e}){if(e==null)return"\u2014";let t=Math.max(0,Math.min(100,e)),o=Math.PI*(1-t/100),n=t<60?"bad":t<85?"fair":"good";return u`<span class="gauge"><svg viewBox="0 0 64 36" aria-hidden="true">
    <path class="track" d="M6,32 A26,26 0 0 1 58,32" />
    <path class=${`fill ${n}`} d=${`M6,32 A26,26 0 0 1 ${(32+26*Math.cos(o)).toFixed(2)},${(32-26*Math.sin(o)).toFixed(2)}`} />
  </svg><span>${e}</span></span>`}function Xt({days:e,error:t}){if(t)return u`<${g} error=${t} />`;if(!e)return null;let o=e.map(r=>r.date),n=r=>e.map(r);return u`<div class="sparks" aria-label="The last 30 days">
    <${z} id="fleet_health" label="Fleet health" dates=${o} line=${!0}
      series=${[{values:n(r=>r.fleet_health)}]} />
    <${z} id="at_risk" label="Assets at risk" dates=${o} line=${!0}
      series=${[{values:n(r=>r.assets_at_risk),cls:"bad"}]} />
    <${z} id="alerts_opened" label="Alerts opened" dates=${o} series=${[{label:"critical",cls:"critical",values:n(r=>r.alerts_opened.critical)},{label:"warning",cls:"warning",values:n(r=>r.alerts_opened.warning)},{label:"info",cls:"info",values:n(r=>r.alerts_opened.info)}]} />
    <${z} id="work" label="Failures and maintenance" dates=${o} series=${[{label:"failures",cls:"failure",values:n(r=>r.failures)},{label:"maintenance",cls:"maintenance",values:n(r=>r.maintenance)}]} />
  </div>`}var Ct=[["asset_type","Type"],["site","Site"],["criticality","Criticality"],["status","Status"]];function Tt(){let[e,t]=v(""),[o,n]=v(""),[r,s]=v("id"),[a,i]=v(0),[c,l]=v({}),p=25,d=k(async()=>{let b=(await m("GET","/assets?limit=1000")).items;return Object.fromEntries(Ct.map(([w])=>[w,[...new Set(b.map(f=>f[w]??(w==="status"?"active":null)).filter(Boolean))].sort()]))},[]),_=Object.entries(c).filter(([,b])=>b).map(([b,w])=>`&${b}=${encodeURIComponent(w)}`).join("")+(o?`&risk=${o}`:"")+(e?`&q=${encodeURIComponent(e)}`:""),h=k(()=>m("GET",`/assets?limit=${p}&offset=${a}&sort=${r}${_}`),[_,a,r]),y=h.data?.total??0;return u`<section aria-labelledby="assets-title">
    <h1 id="assets-title">Assets</h1>
    <div class="toolbar">
      <label class="search">Search <input type="search" value=${e} onInput=${b=>{t(b.target.value),i(0)}} /></label>
      ${Ct.map(([b,w])=>u`<label>${w} <select value=${c[b]??""} onChange=${f=>{l({...c,[b]:f.target.value}),i(0)}}>
        <option value="">any</option>${(d.data?.[b]??[]).map(f=>u`<option>${f}</option>`)}</select></label>`)}
      <label>Risk <select value=${o} onChange=${b=>{n(b.target.value),i(0)}}>
        <option value="">any</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select></label>
      <label>Sort <select value=${r} onChange=${b=>s(b.target.value)}>
        <option value="id">id</option><option value="name">name</option><option value="health">health, lowest first</option>
        <option value="-risk">risk, highest first</option><option value="-fails_30d">30-day failure chance</option></select></label>
      <button onClick=${()=>J(`/assets?format=csv${_}`,"assets.csv")}>Export CSV</button>
    </div>
    <${g} error=${h.error} />
    <table>
      <thead><tr><th scope="col">Asset</th><th scope="col">Type</th><th scope="col">Site</th><th scope="col">Criticality</th><th scope="col">Open alerts</th><th scope="col">Health</th><th scope="col">Risk</th><th scope="col">Fails in 30 days</th></tr></thead>
      <tbody>${(h.data?.items??[]).map(b=>u`<tr key=${b.id}>
          <td><a href=${`#/assets/${encodeURIComponent(b.id)}`}>${b.name||b.id}</a></td>
          <td>${b.asset_type??""}</td><td>${b.site??""}</td><td>${b.criticality??""}</td>
          <td>${b.open_alerts??0}</td><td><${fe} value=${b.health} /></td>
          <td>${b.prediction?u`<span class=${`badge risk-${b.prediction.risk}`}>${b.prediction.risk}</span>`:u`<span class="muted">not scored</span>`}</td>
          <td>${O(b.prediction?.fails_30d)}</td></tr>`)}</tbody>
    </table>
    <nav class="pager" aria-label="Pages">
      <button disabled=${a===0} onClick=${()=>i(Math.max(0,a-p))}>Previous</button>
      <span>${y?`${a+1}\u2013${Math.min(a+p,y)} of ${y}`:"none"}</span>
      <button disabled=${a+p>=y} onClick=${()=>i(a+p)}>Next</button>
    </nav>
  </section>`}function Yt(e,t){let o=e.scope??{};return e.enabled&&(!o.asset_id||o.asset_id===t.id)&&(!o.asset_type||o.asset_type===t.asset_type)&&(!o.site||o.site===t.site)}function eo({asset:e,live:t}){let[o,n]=v(86400),r=k(()=>{let c=Date.now();return m("GET",`/assets/${encodeURIComponent(e.id)}/chart?from=${c-o*1e3}&to=${c+1e3}&points=600`)},[e.id,o]),s=k(()=>m("GET","/rules?enabled=true&limit=1000"),[]),a={...r.data?.series??{}};for(let[c,l]of Object.entries(t)){if(!Number.isFinite(l.value))continue;let p=a[c]??{time:[],mean:[],min:[],max:[]},d=Date.parse(l.time);p.time.length&&d<=p.time[p.time.length-1]||(a[c]={time:[...p.time,d],mean:[...p.mean,l.value],min:[...p.min,l.value],max:[...p.max,l.value]})}let i=(s.data?.items??[]).filter(c=>Yt(c,e));return u`<div>
    <div class="ranges" role="group" aria-label="Range">${yt.map(([c,l])=>u`<button aria-pressed=${o===l} onClick=${()=>n(l)}>${c}</button>`)}</div>
    <${g} error=${r.error} />
    <div class="charts">${Object.keys(a).sort().map(c=>u`<${be} key=${c} name=${c} data=${a[c]} thresholds=${i.filter(l=>l.metric===c)} />`)}</div>
  </div>`}function Et({id:e}){let t=k(()=>m("GET",`/assets/${encodeURIComponent(e)}`),[e]),o=k(()=>m("GET",`/alerts?limit=20&sort=-opened_at&asset_id=${encodeURIComponent(e)}`),[e]),[n,r]=v({}),[s,a]=v(!1);if(A(()=>(r({}),a(!1),V("readings",{asset_id:e},c=>r(l=>({...l,...c.metrics})),()=>a(!0))),[e]),t.error)return u`<section><h1>Asset</h1><${g} error=${t.error} /></section>`;let i=t.data;return u`<section aria-labelledby="asset-title">
    <h1 id="asset-title">${i?i.name||i.id:e}</h1>
    ${i&&u`<dl class="facts">
      <dt>Id</dt><dd>${i.id}</dd><dt>Type</dt><dd>${i.asset_type??"\u2014"}</dd>
      <dt>Site</dt><dd>${i.site??"\u2014"}</dd><dt>Criticality</dt><dd>${i.criticality??"\u2014"}</dd>
      <dt>Health</dt><dd><${fe} value=${i.health} /></dd></dl>`}
    <h2>Charts</h2>
    ${i&&u`<${eo} asset=${i} live=${n} />`}
    <h2>Live readings <span class="muted">(updates as they arrive)</span></h2>
    <table class="readings" data-live=${s}><thead><tr><th scope="col">Metric</th><th scope="col">Value</th><th scope="col">Time</th></tr></thead>
      <tbody>${Object.entries(n).sort().map(([c,l])=>u`<tr key=${c} data-metric=${c}><td>${c}</td><td>${l.value}</td><td>${x(l.time)}</td></tr>`)}</tbody></table>
    <h2>Rolling windows <span class="muted">(kept live by ingest)</span></h2>
    <${to} id=${e} />
    <h2>Prediction</h2>
    <${no} id=${e} />
    <h2>Alerts</h2>
    <${Le} items=${o.data?.items??[]} reload=${o.reload} />
    <h2>Maintenance</h2>
    <${ao} id=${e} />
  </section>`}function to({id:e}){let t=k(()=>m("GET",`/assets/${encodeURIComponent(e)}/windows`),[e]);A(()=>{let r=0;return V("readings",{asset_id:e},()=>{Date.now()-r<5e3||(r=Date.now(),t.reload())})},[e,t.reload]);let o=["5m","1h","24h"],n=r=>r.count?`${Number(r.mean.toPrecision(4))} (${Number(r.min.toPrecision(4))}\u2013${Number(r.max.toPrecision(4))})`:"\u2014";return u`<${g} error=${t.error} />
    <table class="windows"><thead><tr><th scope="col">Metric</th>${o.map(r=>u`<th scope="col">${r} mean (min–max)</th>`)}</tr></thead>
      <tbody>${(t.data?.items??[]).map(r=>u`<tr key=${r.metric}><td>${r.metric}</td>${o.map(s=>u`<td>${n(r.windows[s])}</td>`)}</tr>`)}</tbody></table>`}var oo={mean:"mean",std:"spread",min:"lowest",max:"highest",slope:"trend per day"};function He(e){let[t,o]=e.feature.includes(".")?[e.feature.slice(0,e.feature.lastIndexOf(".")),e.feature.slice(e.feature.lastIndexOf(".")+1)]:["",e.feature],n=o.replaceAll("_"," "),r=/^(mean|std|min|max|slope)_(\d+)d$/.exec(o);r?n=`${r[2]}-day ${oo[r[1]]}`:o==="last"?n="latest value":o==="delta_30d"?n="30-day mean above its baseline":o==="delta_30d_per_day"&&(n="drift from its baseline per day");let s=e.value==null?"missing":Number(e.value.toPrecision(4)),a=(e.contribution??0)>=0?"raises the risk":"lowers the risk";return`${t?`${t}: `:""}${n} is ${s}, which ${a}`}function no({id:e}){let t=k(()=>m("GET",`/assets/${encodeURIComponent(e)}/predictions?limit=90`),[e]);if(t.error)return u`<${g} error=${t.error} />`;let o=t.data?.items??[];if(!o.length)return u`<p class="muted">Not scored yet: models score the fleet once a day, or on demand on the Predictions page.</p>`;let n=o[0],r=[...o].reverse();return u`<div class="columns">
    <div class="card" data-prediction=${n.risk}>
      <h3><span class=${`badge risk-${n.risk}`}>${n.risk}</span> risk · health ${n.health}</h3>
      <p>Fails within 7 days: ${O(n.fails_7d)} · within 30 days: ${O(n.fails_30d)} · remaining life: ${n.rul_days==null?"\u2014":`${Math.round(n.rul_days)} days`}</p>
      <p class="muted">Scored ${x(n.scored_at)} on data to ${x(n.as_of)}</p>
      <ul class="factors">${n.factors.map(s=>u`<li>${He(s)}</li>`)}</ul>
    </div>
    <${z} id="asset_health" label="Predicted health" line=${!0} dates=${r.map(s=>s.scored_at.slice(0,10))}
      series=${[{values:r.map(s=>s.health)}]} />
  </div>`}var so=["preventive","corrective","inspection","failure"];function ao({id:e}){let t=k(()=>m("GET",`/maintenance?asset_id=${encodeURIComponent(e)}&limit=100`),[e]),[o,n]=U(t.reload),[r,s]=v(null),a=l=>{l.preventDefault();let p=new FormData(l.target),d={asset_id:e,kind:p.get("kind"),performed_at:new Date(p.get("performed_at")).toISOString()};p.get("cost")&&(d.cost=Number(p.get("cost"))),p.get("notes")&&(d.notes=p.get("notes")),o(async()=>{await m("POST","/maintenance",d),l.target.reset()})},i=l=>{let p=l.target.files[0];p&&o(async()=>{try{s(await m("POST","/maintenance/import",await p.text(),"text/csv"))}catch(d){throw d.body?.imported!=null&&s(d.body),d}finally{l.target.value=""}})},c=[...t.data?.items??[]].sort((l,p)=>l.performed_at<p.performed_at?1:-1);return u`<div>
    ${H()&&u`<form class="inline" onSubmit=${a} aria-label="New maintenance record">
      <label>Kind <select name="kind">${so.map(l=>u`<option>${l}</option>`)}</select></label>
      <label>Performed <input name="performed_at" type="datetime-local" required /></label>
      <label>Cost <input name="cost" type="number" step="any" min="0" /></label>
      <label>Notes <input name="notes" /></label>
      <button type="submit">Add record</button>
      <label>Import work orders (CSV: SAP PM, Maximo or native) <input type="file" accept=".csv,text/csv" onChange=${i} /></label>
    </form>`}
    <${g} error=${n||t.error} />
    ${r&&u`<p role="status" data-imported=${r.imported}>Imported ${r.imported} records${r.rejected?.length?`; ${r.rejected.length} rows refused`:""}.</p>`}
    <table><thead><tr><th scope="col">Performed</th><th scope="col">Kind</th><th scope="col">Cost</th><th scope="col">Downtime (h)</th><th scope="col">Notes</th></tr></thead>
      <tbody>${c.map(l=>u`<tr key=${l.id} data-maintenance=${l.id}><td>${x(l.performed_at)}</td><td>${l.kind}</td><td>${l.cost??"\u2014"}</td><td>${l.downtime_hours??"\u2014"}</td><td>${l.notes??""}</td></tr>`)}</tbody></table>
  </div>`}function At(){let[e,t]=v(365),o=k(()=>m("GET",`/reports/cost-avoidance?days=${e}`),[e]),n=o.data,r=s=>s==null?"\u2014":`${Math.round(s).toLocaleString()} ${n?.currency??""}`;return u`<section aria-labelledby="cost-title">
    <h1 id="cost-title">Cost avoidance</h1>
    <label>Period <select value=${e} onChange=${s=>t(Number(s.target.value))}>
      <option value="30">30 days</option><option value="90">90 days</option><option value="365">365 days</option></select></label>
    <button onClick=${()=>J(`/reports/cost-avoidance?days=${e}&format=csv`,"cost-avoidance.csv")}>Export CSV</button>
    <${g} error=${o.error} />
    <div class="kpis">
      <${P} id="avoided" label="Failures avoided" value=${n?.avoided_failures} />
      <${P} id="gross" label="Unplanned cost avoided" value=${n&&r(n.unplanned_cost_avoided)} />
      <${P} id="planned" label="Planned work" value=${n&&r(n.planned_cost)} />
      <${P} id="net" label="Net savings" value=${n&&r(n.net_savings)} />
      <${P} id="failures" label="Failures" value=${n?.failures} />
      <${P} id="failure_cost" label="Cost of failures" value=${n&&r(n.failure_cost)} />
    </div>
    <h2>Interventions an alert warned of</h2>
    <table>
      <thead><tr><th scope="col">Work order</th><th scope="col">Asset</th><th scope="col">Criticality</th><th scope="col">Performed</th><th scope="col">Savings</th></tr></thead>
      <tbody>${(n?.interventions??[]).map(s=>u`<tr key=${s.maintenance_id}><td>${s.maintenance_id}</td>
          <td><a href=${`#/assets/${encodeURIComponent(s.asset_id)}`}>${s.asset_id}</a></td>
          <td>${s.criticality}</td><td>${x(s.performed_at)}</td><td>${r(s.savings)}</td></tr>`)}</tbody>
    </table>
  </section>`}async function ro(){let[e,t]=await Promise.all([m("GET","/readings/latest"),m("GET","/assets?limit=1000")]),o=[...new Set(e.items.filter(r=>typeof r.value=="number").map(r=>r.metric))].sort(),n=[...new Set(t.items.map(r=>r.asset_type).filter(Boolean))].sort();return{metrics:o,types:n}}function io({metric:e,scope:t,days:o}){let n=`metric=${encodeURIComponent(e)}&days=${o}${t.type?`&asset_type=${encodeURIComponent(t.type)}`:""}${t.asset?`&asset_id=${encodeURIComponent(t.asset)}`:""}`,r=k(()=>m("GET",`/reports/trends?${n}`),[n]);if(r.error)return u`<${g} error=${r.error} />`;let s=r.data?.points??[],a={time:s.map(i=>Date.parse(i.date)),mean:s.map(i=>i.mean),min:s.map(i=>i.min),max:s.map(i=>i.max)};return u`<${be} name=${e} data=${a} thresholds=${[]} />`}function Pt(){let e=k(ro,[]),[t,o]=v(null),[n,r]=v({type:"",asset:""}),[s,a]=v(30),i=e.data?.metrics??[],c=t??i.slice(0,3),l=p=>o(c.includes(p)?c.filter(d=>d!==p):[...c,p]);return u`<section aria-labelledby="trends-title">
    <h1 id="trends-title">Trends</h1>
    <${g} error=${e.error} />
    <div class="toolbar">
      <label>Asset type <select value=${n.type} onChange=${p=>r({type:p.target.value,asset:""})}>
        <option value="">the whole fleet</option>${(e.data?.types??[]).map(p=>u`<option>${p}</option>`)}</select></label>
      <label>Or one asset <input value=${n.asset} placeholder="asset id" onChange=${p=>r({type:"",asset:p.target.value.trim()})} /></label>
      <label>Range <select value=${s} onChange=${p=>a(Number(p.target.value))}>
        ${[7,30,90,180,365].map(p=>u`<option value=${p}>${p} days</option>`)}</select></label>
    </div>
    <fieldset><legend>Metrics</legend>${i.map(p=>u`<label><input type="checkbox" checked=${c.includes(p)} onChange=${()=>l(p)} /> ${p}</label>`)}</fieldset>
    <p class="muted">Daily mean with the day's lowest and highest, over every asset in the scope (from the daily rollups).</p>
    <div class="charts">${c.map(p=>u`<${io} key=${p} metric=${p} scope=${n} days=${s} />`)}</div>
  </section>`}function Rt({p:e}){return u`<tr data-asset=${e.asset_id}>
    <td><a href=${`#/assets/${encodeURIComponent(e.asset_id)}`}>${e.asset_id}</a></td>
    <td><span class=${`badge risk-${e.risk}`}>${e.risk}</span></td>
    <td>${O(e.fails_7d)}</td><td>${O(e.fails_30d)}</td>
    <td>${e.rul_days==null?"\u2014":Math.round(e.rul_days)}</td><td>${e.health}</td>
    <td>${e.factors?.[0]?He(e.factors[0]):"\u2014"}</td><td>${x(e.scored_at)}</td>
  </tr>`}var It=u`<thead><tr><th scope="col">Asset</th><th scope="col">Risk</th><th scope="col">Fails in 7 days</th>
  <th scope="col">In 30 days</th><th scope="col">Life left (days)</th><th scope="col">Health</th><th scope="col">Top factor</th><th scope="col">Scored</th></tr></thead>`;function lo(){let[e,t]=v(null),[o,n]=U();return u`<div>
    <form class="inline" onSubmit=${s=>{s.preventDefault();let a=new FormData(s.target).get("asset_id").trim();o(async()=>t((await m("POST","/predict",{asset_id:a})).predictions))}} aria-label="Score an asset">
      <label>Asset <input name="asset_id" required /></label>
      <button type="submit">Score now</button>
    </form>
    <${g} error=${n} />
    ${e&&u`<table data-scored="true">${It}<tbody>${e.map(s=>u`<${Rt} key=${s.asset_id} p=${s} />`)}</tbody></table>`}
  </div>`}function co(e){let t=e.metrics??{};return e.objective==="binary"?`AUC-PR ${t.auc_pr?.toFixed(3)??"\u2014"} \xB7 ROC AUC ${t.roc_auc?.toFixed(3)??"\u2014"} \xB7 lead ${t.median_lead_days??"\u2014"} d`:`RMSE ${t.rmse?.toFixed(2)??"\u2014"} \xB7 MAE ${t.mae?.toFixed(2)??"\u2014"}`}function uo(){let e=k(()=>m("GET","/models"),[]),[t,o]=U(e.reload),n=H(),r=e.data?.items??[],s=[...new Set(r.map(a=>a.target))];return u`<div>
    <${g} error=${o||e.error} />
    ${s.map(a=>u`<div key=${a}>
      <h3>${a} ${n&&u`<button onClick=${()=>t(()=>m("POST","/models/rollback",{target:a}))}>Roll back ${a}</button>`}</h3>
      <table><thead><tr><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Trained</th><th scope="col">Validation</th><th scope="col">Rows</th>${n&&u`<th scope="col"><span class="sr">Actions</span></th>`}</tr></thead>
        <tbody>${r.filter(i=>i.target===a).map(i=>u`<tr key=${i.id} data-model=${i.id} data-status=${i.status}>
          <td><code>${i.id}</code></td><td>${i.status}</td><td>${x(i.created_at)}</td><td>${co(i)}</td>
          <td>${i.train_rows} + ${i.validation_rows}</td>
          ${n&&u`<td>${i.status!=="champion"&&u`<button onClick=${()=>t(()=>m("POST",`/models/${encodeURIComponent(i.id)}/promote`))}>Promote</button>`}</td>`}
        </tr>`)}</tbody></table>
    </div>`)}
    ${!r.length&&u`<p class="muted">No model yet: start a training run.</p>`}
  </div>`}function po({onFinished:e}){let t=k(()=>m("GET","/training-runs?limit=10"),[]),[o,n]=U(t.reload),r=t.data?.items??[],s=r.some(a=>a.status==="queued"||a.status==="running");return A(()=>{if(!s)return;let a=setInterval(t.reload,1e3);return()=>{clearInterval(a),e()}},[s]),u`<div>
    ${H()&&u`<button disabled=${s} onClick=${()=>o(()=>m("POST","/training-runs",{}))}>${s?"Training\u2026":"Start training"}</button>`}
    <${g} error=${n||t.error} />
    <table><thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">By</th><th scope="col">Started</th><th scope="col">Notes</th></tr></thead>
      <tbody>${r.map(a=>u`<tr key=${a.id} data-run=${a.id} data-status=${a.status}>
        <td><code>${a.id}</code></td><td>${a.status}</td>
        <td><progress max="1" value=${a.progress} aria-label=${`${a.id} progress`}></progress> ${O(a.progress)} <span class="muted">${a.stage}</span></td>
        <td>${a.actor}</td><td>${x(a.started_at??a.created_at)}</td><td>${a.error??a.notes.join("; ")}</td>
      </tr>`)}</tbody></table>
  </div>`}function Nt(){let[e,t]=v(""),o=k(()=>m("GET",`/predictions${e?`?risk=${e}`:""}`),[e]),[n,r]=v(0);return u`<section aria-labelledby="predictions-title">
    <h1 id="predictions-title">Predictions</h1>
    <h2>Score on demand</h2>
    <${lo} />
    <h2>Training runs</h2>
    <${po} onFinished=${()=>{r(s=>s+1),o.reload()}} />
    <h2>Models</h2>
    <${uo} key=${n} />
    <h2>Latest predictions <span class="muted">(as the last scoring kept them)</span></h2>
    <label>Risk <select value=${e} onChange=${s=>t(s.target.value)}>
      <option value="">any</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select></label>
    <${g} error=${o.error} />
    <table>${It}<tbody>${(o.data?.items??[]).slice(0,200).map(s=>u`<${Rt} key=${s.asset_id} p=${s} />`)}</tbody></table>
  </section>`}var Dt=["low","medium","high","critical"];function _o(){let e=k(()=>m("GET","/settings"),[]),[t,o]=U(e.reload),[n,r]=v(!1),s=e.data,a=Ue(),i=l=>{l.preventDefault();let p=new FormData(l.target),d={};for(let _ of Dt)d[_]=Number(p.get(`cost_${_}`));r(!1),t(async()=>{await m("PUT","/settings",{cost_model:{currency:p.get("currency"),unplanned_failure_cost:d,planned_to_unplanned_ratio:Number(p.get("ratio")),lookback_days:Number(p.get("lookback"))},risk:{at_risk_below_health:Number(p.get("at_risk"))}}),r(!0)})};if(!s)return u`<${g} error=${e.error} />`;let c=s.cost_model;return u`<form onSubmit=${i} aria-label="Cost and risk settings">
    <fieldset disabled=${!a}>
      <legend>Cost model and risk ${a?"":"(admins change these)"}</legend>
      <label>Currency <input name="currency" value=${c.currency} required /></label>
      ${Dt.map(l=>u`<label>Unplanned failure, ${l} <input name=${`cost_${l}`} type="number" min="0" step="any" value=${c.unplanned_failure_cost[l]} /></label>`)}
      <label>Planned job / failure cost <input name="ratio" type="number" min="0" max="1" step="any" value=${c.planned_to_unplanned_ratio} /></label>
      <label>Alert look-back (days) <input name="lookback" type="number" min="1" max="365" value=${c.lookback_days} /></label>
      <label>At risk below health <input name="at_risk" type="number" min="0" max="100" step="any" value=${s.risk.at_risk_below_health} /></label>
      ${a&&u`<button type="submit">Save settings</button>`}
    </fieldset>
    <${g} error=${o} />
    ${n&&u`<p role="status">Saved.</p>`}
  </form>`}function ho(){let e=k(()=>m("GET","/users"),[]),[t,o]=U(e.reload),[n,r]=v(null),s=i=>{i.preventDefault();let c=new FormData(i.target),l={username:c.get("username"),display_name:c.get("display_name"),role:c.get("role")};t(async()=>{r(await m("POST","/users",l)),i.target.reset()})},a=i=>`/users/${encodeURIComponent(i.username)}`;return u`<div>
    <form class="inline" onSubmit=${s} aria-label="New user">
      <label>Username <input name="username" required /></label>
      <label>Display name <input name="display_name" /></label>
      <label>Role <select name="role"><option>viewer</option><option>engineer</option><option>admin</option></select></label>
      <button type="submit">Create user</button>
    </form>
    <${g} error=${o||e.error} />
    ${n?.password&&u`<p role="status">Password for ${n.username}, shown once: <span class="secret">${n.password}</span></p>`}
    <table><thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Last sign-in</th><th scope="col">State</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(e.data?.items??[]).map(i=>u`<tr key=${i.username} data-user=${i.username}>
        <td>${i.username}</td><td>${i.display_name}</td><td>${i.role}</td><td>${x(i.last_login_at)}</td>
        <td>${i.disabled?"disabled":"active"}</td>
        <td class="actions"><button onClick=${()=>t(()=>m("PATCH",a(i),{disabled:!i.disabled}))}>${i.disabled?"Enable":"Disable"}</button>
          <button onClick=${()=>confirm(`Delete user ${i.username}?`)&&t(()=>m("DELETE",a(i)))}>Delete</button></td>
      </tr>`)}</tbody></table>
  </div>`}function mo(){let e=k(()=>m("GET","/tokens"),[]),[t,o]=U(e.reload),[n,r]=v(null);return u`<div>
    <form class="inline" onSubmit=${a=>{a.preventDefault();let i=new FormData(a.target);t(async()=>{r(await m("POST","/tokens",{name:i.get("name"),scope:i.get("scope")})),a.target.reset()})}} aria-label="New token">
      <label>Name <input name="name" required placeholder="gateway-3" /></label>
      <label>Scope <select name="scope">
        <option value="write">write: gateways (InfluxDB writes, JSON readings, remote write)</option>
        <option value="read">read: Grafana and the query APIs (InfluxQL, Prometheus)</option>
      </select></label>
      <button type="submit">Create token</button>
    </form>
    <${g} error=${o||e.error} />
    ${n&&u`<p role="status">Token ${n.name}, shown once: <span class="secret" data-token=${n.id}>${n.token}</span></p>`}
    <table><thead><tr><th scope="col">Name</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col">Revoked</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(e.data?.items??[]).map(a=>u`<tr key=${a.id} data-token-row=${a.id}>
        <td>${a.name}</td><td>${a.scope}</td><td>${x(a.created_at)}</td><td>${a.revoked_at?x(a.revoked_at):"\u2014"}</td>
        <td>${!a.revoked_at&&u`<button onClick=${()=>confirm(`Revoke ${a.name}?`)&&t(()=>m("DELETE",`/tokens/${encodeURIComponent(a.id)}`))}>Revoke</button>`}</td>
      </tr>`)}</tbody></table>
  </div>`}function $o(){let e=k(()=>m("GET","/webhooks?limit=1000"),[]),[t,o]=U(e.reload),n=s=>{s.preventDefault();let a=new FormData(s.target),i={name:a.get("name"),url:a.get("url"),format:a.get("format"),min_severity:a.get("min_severity")};a.get("secret")&&(i.secret=a.get("secret")),t(async()=>{await m("POST","/webhooks",i),s.target.reset()})},r=s=>`${s.delivered} delivered, ${s.failed} failed, ${s.pending} pending${s.last_http_status?` \xB7 last HTTP ${s.last_http_status}`:""}${s.last_error?` \xB7 ${s.last_error}`:""}`;return u`<div>
    <form class="inline" onSubmit=${n} aria-label="New webhook">
      <label>Name <input name="name" required /></label>
      <label>URL <input name="url" type="url" required /></label>
      <label>Format <select name="format"><option>json</option><option>slack</option></select></label>
      <label>From severity <select name="min_severity"><option>warning</option><option>critical</option><option>info</option></select></label>
      <label>Signing secret <input name="secret" type="password" autocomplete="new-password" /></label>
      <button type="submit">Add webhook</button>
    </form>
    <${g} error=${o||e.error} />
    <table><thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Delivery</th><th scope="col">Enabled</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(e.data?.items??[]).map(s=>u`<tr key=${s.id} data-webhook=${s.id}>
        <td>${s.name}</td><td>${s.url}</td><td>${r(s.status)}<br /><span class="muted">last success ${x(s.status.last_success_at)}</span></td>
        <td>${s.enabled===!1?"no":"yes"}</td>
        <td class="actions"><button onClick=${()=>t(()=>m("PATCH",`/webhooks/${encodeURIComponent(s.id)}`,{enabled:s.enabled===!1}))}>${s.enabled===!1?"Enable":"Disable"}</button>
          <button onClick=${()=>confirm(`Delete webhook ${s.name}?`)&&t(()=>m("DELETE",`/webhooks/${encodeURIComponent(s.id)}`))}>Delete</button></td>
      </tr>`)}</tbody></table>
  </div>`}function fo(){let e=k(()=>m("GET","/audit?limit=50"),[]);return u`<div>
    <${g} error=${e.error} />
    <table><thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Request</th><th scope="col">Status</th></tr></thead>
      <tbody>${(e.data?.items??[]).map(t=>u`<tr key=${t.id}><td>${x(t.time)}</td><td>${t.actor} <span class="muted">${t.role}</span></td>
        <td><code>${t.method} ${t.path}</code></td><td>${t.status}</td></tr>`)}</tbody></table>
  </div>`}function Ut(){let e=k(()=>m("GET",""),[]),t=Ue();return u`<section aria-labelledby="settings-title">
    <h1 id="settings-title">Settings</h1>
    <${g} error=${e.error} />
    ${e.data&&u`<dl class="facts"><dt>Tenant</dt><dd>${e.data.id}</dd>
      <dt>Assets</dt><dd>${e.data.assets}</dd><dt>Series</dt><dd>${e.data.asset_series}</dd>
      <dt>Signed in as</dt><dd>${e.data.you.subject} (${e.data.you.role})</dd></dl>`}
    <h2>Cost and risk</h2>
    <${_o} />
    ${t&&u`
      <h2>Users</h2><${ho} />
      <h2>API tokens <span class="muted">(write tokens for gateways, read tokens for Grafana)</span></h2><${mo} />
      <h2>Webhooks</h2><${$o} />
      <h2>Audit log <span class="muted">(the latest 50 changes)</span></h2><${fo} />`}
  </section>`}function bo(){let[e,t]=v(location.hash||"#/");return A(()=>{let o=()=>t(location.hash||"#/");return addEventListener("hashchange",o),()=>removeEventListener("hashchange",o)},[]),e.slice(1)}function vo(){let[e,t]=v(null),[o,n]=v(!1);return u`<main class="signin">
    <form onSubmit=${async s=>{s.preventDefault();let a=new FormData(s.target);n(!0),t(null);try{await mt(a.get("tenant"),a.get("username"),a.get("password"))}catch(i){t(i)}finally{n(!1)}}} aria-labelledby="signin-title">
      <h1 id="signin-title">FORESIGHT</h1>
      <label>Tenant <input name="tenant" autocomplete="organization" required /></label>
      <label>Username <input name="username" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <${g} error=${e} />
      <button type="submit" disabled=${o}>${o?"Signing in\u2026":"Sign in"}</button>
    </form>
  </main>`}function go({session:e}){let t=bo(),[o,n]=v("offline");A(()=>ft(n),[]);let[r,s]=v(localStorage.getItem("theme")||"auto");A(()=>{document.documentElement.dataset.theme=r,localStorage.setItem("theme",r)},[r]);let a;t.startsWith("/assets/")?a=u`<${Et} id=${decodeURIComponent(t.slice(8))} />`:t==="/assets"?a=u`<${Tt} />`:t==="/alerts"?a=u`<${wt} />`:t==="/rules"?a=u`<${St} />`:t==="/cost"?a=u`<${At} />`:t==="/trends"?a=u`<${Pt} />`:t==="/predictions"?a=u`<${Nt} />`:t==="/settings"?a=u`<${Ut} />`:a=u`<${xt} />`;let i=(c,l)=>u`<a href=${c} aria-current=${("#"+t).startsWith(c)&&(c!=="#/"||t==="/")?"page":void 0}>${l}</a>`;return u`<div class="shell">
    <header>
      <span class="brand">FORESIGHT</span>
      <nav aria-label="Main">${i("#/","Overview")}${i("#/assets","Assets")}${i("#/alerts","Alerts")}${i("#/trends","Trends")}${i("#/predictions","Predictions")}${i("#/rules","Rules")}${i("#/cost","Cost avoidance")}${i("#/settings","Settings")}</nav>
      <span class=${`live ${o}`} role="status" aria-label=${`live feed ${o}`}>${o}</span>
      <label class="theme"><span class="sr">Theme</span> <select value=${r} onChange=${c=>s(c.target.value)}>
        <option value="auto">auto</option><option value="light">light</option><option value="dark">dark</option></select></label>
      <span class="who">${e.user?.display_name??""} · ${e.tenant} · ${e.role}</span>
      <button onClick=${$t}>Sign out</button>
    </header>
    <main>${a}</main>
  </div>`}function yo(){let[e,t]=v(null),[o,n]=v(null);A(()=>{fetch("/openapi.json").then(a=>a.json()).then(t,n)},[]);let r=[];for(let[a,i]of Object.entries(e?.paths??{}))for(let[c,l]of Object.entries(i))r.push({path:a,method:c,op:l});let s=[...new Set(r.map(a=>a.op.tags?.[0]??"other"))];return u`<main class="docs">
    <h1>FORESIGHT API <span class="muted">${e?.info?.version??""}</span></h1>
    <p>Every route the server answers, from <a href="/openapi.json">/openapi.json</a> (OpenAPI 3). <a href="/">Dashboard</a></p>
    <${g} error=${o} />
    <nav aria-label="Sections">${s.map(a=>u`<a href=${`#tag-${a}`}>${a}</a> `)}</nav>
    ${s.map(a=>u`<section aria-labelledby=${`tag-${a}`}>
      <h2 id=${`tag-${a}`}>${a}</h2>
      ${r.filter(i=>(i.op.tags?.[0]??"other")===a).map(({path:i,method:c,op:l})=>u`
        <article class="op" data-op=${`${c.toUpperCase()} ${i}`}>
          <h3><span class=${`method ${c}`}>${c.toUpperCase()}</span> <code>${i}</code></h3>
          <p>${l.summary} <span class="muted">· ${l["x-foresight-role"]??""}</span></p>
          ${l.parameters&&u`<table><thead><tr><th scope="col">Parameter</th><th scope="col">In</th><th scope="col">Meaning</th></tr></thead>
            <tbody>${l.parameters.map(p=>u`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.description??""}</td></tr>`)}</tbody></table>`}
          ${l.requestBody&&u`<p class="muted">Body: ${Object.keys(l.requestBody.content??{}).join(", ")} ${Object.values(l.requestBody.content??{})[0]?.schema?.$ref?.split("/").pop()??""}</p>`}
        </article>`)}
    </section>`)}
  </main>`}function ko(){let[e,t]=v(pe()),[o,n]=v(!1);return A(()=>{let r=ue(t);return _e().finally(()=>n(!0)),r},[]),o?e?u`<${go} session=${e} />`:u`<${vo} />`:u`<p class="loading">Loading…</p>`}et(location.pathname==="/docs"?u`<${yo} />`:u`<${ko} />`,document.getElementById("app"));
