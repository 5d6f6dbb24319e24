/** The qlog guide's sample config (config_qlog.toml), verbatim, trailing spaces and Chinese comments included. */
export const GUIDE_CONFIG = `port: 6000
workspace: /var/log/qlog 
server_logfile: server.log 
client_logfile: client.log 
server_threads: 4
client_threads: 1
log_level: info 
rotate_size: 65536
rotate_num: 10
monitor_items:  
  - name: service  #业务名    
    monitor_type: file     
    monitor_path: /var/log/service.log  #QingTian Enclave中业务日志的路径    
    outputfile: service.log  #同步到父虚拟机中的日志文件名  
  - name: resource     
    monitor_type: resource     
    monitor_internel: 15    
    outputfile: resource.log
`;
