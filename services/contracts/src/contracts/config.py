from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings


class OurCompany(BaseModel):
    """Our own legal details, printed as the contractor and on the company card.

    Override per deployment with ``CONTRACTS_COMPANY__INN=...`` etc.; the defaults are the demo
    company of the shared data (INN 7701000001) and are validated at start-up like real ones.
    """

    name: str = "Общество с ограниченной ответственностью «КлиентОпс»"
    short_name: str = "ООО «КлиентОпс»"
    inn: str = "7701000001"
    kpp: str = "770101001"
    ogrn: str = "1027700001230"
    address: str = "123456, г. Москва, ул. Примерная, д. 1"
    postal_address: str | None = None
    bank_name: str = "ПАО Сбербанк"
    bik: str = "044525225"
    account: str = "40702810938000012345"
    corr_account: str = "30101810400000000225"
    director_position: str = "Генеральный директор"
    director_name: str = "Иванов Иван Иванович"
    director_in_person_of: str | None = "Генерального директора Иванова Ивана Ивановича"
    phone: str | None = "+74951234567"
    email: str | None = "office@clientops.example"
    city: str = "Москва"


class ContractsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore",
                                      env_nested_delimiter="__")

    service_name: str = "contracts"
    port: int = 8001
    expiring_thresholds: tuple[int, ...] = (60, 30, 7)
    # the daily job wakes this often and runs once per Moscow business day (job_run key)
    daily_job_poll_seconds: float = 300.0
    storage_dir: str = Field(default="var/contracts/files",
                             description="root of the disk storage for scans (no S3 bucket)")
    # object storage for scans: set the bucket to use it (every replica sees every scan)
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # e.g. http://minio:9000; AWS when unset
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    s3_prefix: str = "scans"
    max_upload_bytes: int = 10 * 1024 * 1024
    company: OurCompany = OurCompany()
